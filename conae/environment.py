"""The environment a run was made in, recorded in metrics.json so that a reader can explain a difference in
numbers: package versions, CPU, threads, device, and the git commit of the code."""
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch

PACKAGES = ("torch", "torchvision", "numpy", "scikit-learn")
NEIGHBOUR_PACKAGES = ("umap-learn", "openTSNE")  # recorded where a run used them


def version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def cpu_model():
    """The CPU's marketing name ("AMD EPYC 7B13", "Apple M2"...), or the architecture where none is found."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if platform.system() == "Darwin":
        try:
            return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True,
                                  timeout=5).stdout.strip() or platform.machine()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine()


def git_commit():
    """(commit, code_changed) of the checkout conae is imported from, or (None, None) outside a checkout.
    code_changed: the conae package differs from that commit."""
    here = Path(__file__).resolve().parent
    try:
        def git(*args):
            return subprocess.run(["git", "-C", str(here), *args], capture_output=True, text=True, timeout=10,
                                  check=True).stdout.strip()
        commit = git("rev-parse", "HEAD")
        changed = bool(git("status", "--porcelain", "--", "."))
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, changed


def environment(device, neighbour_methods=False):
    """The dict metrics.json keeps under "environment"."""
    commit, changed = git_commit()
    packages = {p: version(p) for p in PACKAGES + (NEIGHBOUR_PACKAGES if neighbour_methods else ())}
    packages["torch"] = torch.__version__  # with its build: 2.14.1+cu130, 2.14.1+cpu...
    return dict(python=platform.python_version(), packages=packages,
                platform=f"{platform.system()} {platform.machine()}", cpu=cpu_model(),
                threads=torch.get_num_threads(), device=str(device), git_commit=commit, code_changed=changed)


def one_line(env):
    """The environment as the notebook prints it."""
    packages = ", ".join(f"{name} {v}" for name, v in env["packages"].items() if v)
    code = (f"conae at {env['git_commit'][:10]}{' with changes' if env['code_changed'] else ''}"
            if env["git_commit"] else "conae outside a git checkout")
    return (f"Python {env['python']}, {packages}; {env['cpu']} ({env['platform']}), {env['threads']} threads, "
            f"device {env['device']}; {code}")
