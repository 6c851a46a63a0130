"""The environment a run was made in, recorded in metrics.json so that a reader can explain a difference in
numbers: package versions, the CPU down to its family, model and stepping, the instruction set torch dispatches
to, the math libraries torch was built with, threads, device (with the GPU and its CUDA and cuDNN), precision, a
digest of the code, and its git commit.

A CPU's name does not pin down its floating point: "AMD EPYC" covers generations with and without AVX-512, and
torch's kernels (and oneDNN's) differ between them. `float_differences` says which of the parts that decide the
floats differ between two records."""
import ast
import functools
import hashlib
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

import torch

PACKAGES = ("torch", "torchvision", "numpy", "scikit-learn")
NEIGHBOUR_PACKAGES = ("umap-learn", "openTSNE")  # recorded where a run used them
# the parts of a record that decide the floats a run computes: equal parts, equal numbers
FLOAT_PARTS = ("code_digest", "packages", "platform", "cpu", "cpu_id", "cpu_capability", "math_libraries", "threads",
               "device", "gpu", "precision")
PACKAGE = Path(__file__).resolve().parent


def version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@functools.cache  # read once a process: a cache key asks for it every time
def cpuinfo():
    """The first processor's fields of /proc/cpuinfo (Linux), else {}."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    fields = {}
    for line in text.split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def sysctl(name):
    try:
        return subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model():
    """The CPU's marketing name ("AMD EPYC 7B13", "Apple M2"...), or the architecture where none is found."""
    name = cpuinfo().get("model name")
    if not name and platform.system() == "Darwin":
        name = sysctl("machdep.cpu.brand_string")
    return name or platform.processor() or platform.machine()


def cpu_id():
    """Vendor, family, model and stepping of the CPU where the OS gives them (Linux, macOS), else None: the name
    alone covers several generations."""
    info = cpuinfo()
    if info:
        ident = dict(vendor=info.get("vendor_id") or info.get("CPU implementer"),
                     family=info.get("cpu family") or info.get("CPU architecture"),
                     model=info.get("model") or info.get("CPU part"),
                     stepping=info.get("stepping") or info.get("CPU revision"))
    elif platform.system() == "Darwin":
        ident = dict(vendor=sysctl("machdep.cpu.vendor"), family=sysctl("machdep.cpu.family") or sysctl("hw.cpufamily"),
                     model=sysctl("machdep.cpu.model"), stepping=sysctl("machdep.cpu.stepping"))
    else:
        ident = {}
    return ident if any(ident.values()) else None


def math_libraries(config=None):
    """The oneDNN and MKL versions torch was built with (from torch.__config__.show()); None where absent."""
    config = torch.__config__.show() if config is None else config
    onednn = re.search(r"(?:MKL-DNN|oneDNN) v(\S+)", config)
    mkl = re.search(r"Math Kernel Library Version ([\d.]+)", config)
    return {"oneDNN": onednn and onednn.group(1), "MKL": mkl and mkl.group(1)}


def gpu(device):
    """The GPU's name and the CUDA and cuDNN versions a CUDA run used; None on other devices."""
    if str(device).split(":")[0] != "cuda":
        return None
    return dict(name=torch.cuda.get_device_name(torch.device(device)), cuda=torch.version.cuda,
                cudnn=torch.backends.cudnn.version())


def git_commit():
    """(commit, code_changed) of the checkout conae is imported from, or (None, None) outside a checkout.
    code_changed: the conae package differs from that commit. A record for the reader: code_digest is what
    decides whether two runs ran the same code."""
    try:
        def git(*args):
            return subprocess.run(["git", "-C", str(PACKAGE), *args], capture_output=True, text=True, timeout=10,
                                  check=True).stdout.strip()
        commit = git("rev-parse", "HEAD")
        changed = bool(git("status", "--porcelain", "--", "."))
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, changed


# the modules that decide a trained model's weights (given its config and data): the bundled model's must match
TRAINING_CODE = ("augment.py", "model.py", "neighbours.py", "train.py")


def code_of(module_file):
    """What a module does, as text: its parsed code without comments, docstrings or layout (a canonical dump of its
    syntax tree). A comment or a docstring edit leaves it as it was; a changed constant, name or statement changes
    it. The code digest and conae.cache's keys take a module's code from here."""
    return _code_of(Path(module_file).read_text())


# parsed once per text of a module (a cache key asks for it every time); keyed by the text itself, which is cheap to
# read, not by the file's time and size, which an edit within one tick of the clock leaves as they were
@functools.lru_cache(maxsize=256)
def _code_of(source):
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return _canonical(tree)


def _canonical(node):
    """A syntax tree as text, fields by name, leaving out empty ones (so that Python versions which add a field, or
    dump the tree differently, give the same text for the same code)."""
    if isinstance(node, ast.AST):
        fields = (f"{name}={_canonical(value)}" for name, value in ast.iter_fields(node) if value not in (None, []))
        return f"{type(node).__name__}({', '.join(fields)})"
    if isinstance(node, list):
        return f"[{', '.join(map(_canonical, node))}]"
    return repr(node)


def code_digest(modules=None):
    """A digest of the conae package's code (each module's name and code_of: what it does, not its comments), or of
    the named modules only: equal digests, the same code, with or without git (an installed package, a clone, a
    checkout with uncommitted changes)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")) if modules is None else [PACKAGE / name for name in sorted(modules)]:
        digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + code_of(path).encode() + b"\0")
    return digest.hexdigest()[:16]


def machine():
    """What decides a run's floats on this machine, beside the code, the packages and the run's own threads,
    device and precision: the platform, the CPU (its name, its vendor, family, model and stepping, and the
    instruction set torch dispatches to) and the math libraries torch was built with. The environment record,
    a grid run's ran_on and conae.cache's keys all take it from here."""
    return dict(platform=f"{platform.system()} {platform.machine()}", cpu=cpu_model(), cpu_id=cpu_id(),
                cpu_capability=torch.backends.cpu.get_cpu_capability(), math_libraries=math_libraries())


def environment(device, neighbour_methods=False, precision=None):
    """The dict metrics.json keeps under "environment"; precision: the one the run trained in ("fp32", "bf16")."""
    commit, changed = git_commit()
    packages = {p: version(p) for p in PACKAGES + (NEIGHBOUR_PACKAGES if neighbour_methods else ())}
    packages["torch"] = torch.__version__  # with its build: 2.14.1+cu130, 2.14.1+cpu...
    return dict(python=platform.python_version(), packages=packages, **machine(), threads=torch.get_num_threads(),
                device=str(device), gpu=gpu(device), precision=precision, code_digest=code_digest(),
                git_commit=commit, code_changed=changed)


def float_differences(recorded, current):
    """The parts that decide floating point (FLOAT_PARTS) on which two environment records differ, each as
    "part: recorded -> current"; [] when they agree on all of them. A part the recorded environment lacks (a
    record from before it was kept) counts as a difference. Packages are compared for those recorded."""
    differences = []
    for part in FLOAT_PARTS:
        before, now = recorded.get(part, "not recorded"), current.get(part)
        if part == "packages" and isinstance(before, dict):
            now = {name: (now or {}).get(name) for name in before}
            before, now = ({k: v for k, v in d.items() if before[k] != now[k]} for d in (before, now))
        if before != now:
            differences.append(f"{part}: {before} -> {now}")
    return differences


def one_line(env):
    """The environment as the notebook prints it."""
    packages = ", ".join(f"{name} {v}" for name, v in env["packages"].items() if v)
    code = (f"conae at {env['git_commit'][:10]}{' with changes' if env['code_changed'] else ''}"
            if env["git_commit"] else "conae outside a git checkout")
    cpu = env["cpu"]
    if env.get("cpu_id"):
        ident = env["cpu_id"]
        cpu += f" [{ident.get('vendor')} family {ident.get('family')} model {ident.get('model')} " \
               f"stepping {ident.get('stepping')}]"
    if env.get("cpu_capability"):
        cpu += f", {env['cpu_capability']} kernels"
    libraries = ", ".join(f"{name} {v}" for name, v in (env.get("math_libraries") or {}).items() if v)
    gpu_text = (f" ({env['gpu']['name']}, CUDA {env['gpu']['cuda']}, cuDNN {env['gpu']['cudnn']})"
                if env.get("gpu") else "")
    return (f"Python {env['python']}, {packages}{'; ' + libraries if libraries else ''}; {cpu} ({env['platform']}), "
            f"{env['threads']} threads, device {env['device']}{gpu_text}; {code}")
