"""The structure a newcomer relies on: every package conae imports is declared, `import conae` and `conae --help`
load no heavy library, and conae's modules import one another without a circle."""
import ast
import functools
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "conae"
HEAVY = ("torch", "numpy", "sklearn", "matplotlib", "plotly", "ipywidgets", "ipycanvas", "umap", "scipy")


def imports(path):
    """(module names, absolute, each with whether it is imported at the top of the file, not inside a function) of
    a Python file; conae's own relative imports as "conae.NAME"."""
    tree = ast.parse(Path(path).read_text())
    inside = {id(node) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
              for node in ast.walk(f)}
    here = ".".join(Path(path).relative_to(REPO).with_suffix("").parts)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) not in inside) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against this module's package
                base = here.split(".")[:-node.level]
                target = ".".join(base + ([node.module] if node.module else []))
                names = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
                found += [(name, id(node) not in inside) for name in names]
            else:
                found.append((node.module, id(node) not in inside))
    return found


def declared():
    """(core dependencies, every dependency of an extra) named in pyproject.toml, as normalised names."""
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11's tomllib reads pyproject.toml")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

    def names(requirements):
        return {normal(r.split(";")[0].split("[")[0].split(">")[0].split("=")[0].split("<")[0]) for r in requirements}
    core = names(project["dependencies"])
    extras = set().union(*(names(r) for r in project["optional-dependencies"].values()))
    return core, extras - {"conae"}


def normal(name):
    return name.strip().lower().replace("_", "-")


@functools.cache
def installed():
    """{top-level module: the distributions that provide it} of this environment (read once: it walks them all)."""
    return packages_distributions()


def distribution(module):
    """The normalised name of the installed distribution a top-level module comes from; None for the standard
    library and conae itself."""
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top in ("conae", "tests", "bench", "tools", "extract_images"):
        return None
    found = installed().get(top)
    assert found, f"{module} is imported but no installed distribution provides it"
    return normal(found[0])


def python_files(*places):
    return [p for place in places for p in (sorted((REPO / place).rglob("*.py")) if (REPO / place).is_dir()
                                            else [REPO / place])]


def test_every_package_conae_imports_is_declared_and_those_imported_at_the_top_are_core():
    core, extras = declared()
    for path in python_files("conae"):
        for module, at_top in imports(path):
            name = distribution(module)
            if name is None:
                continue
            where = path.relative_to(REPO)
            assert name in core | extras, f"{where} imports {module}, from {name}, which pyproject.toml does not declare"
            if at_top:
                assert name in core, (f"{where} imports {module} at its top, so every user needs {name}: declare it "
                                      "in dependencies, or import it where it is used")


def test_the_scripts_beside_the_package_import_only_what_is_declared():
    core, extras = declared()
    for path in python_files("tools", "bench", "tests", "extract_images.py"):
        for module, _ in imports(path):
            name = distribution(module)
            assert name is None or name in core | extras, \
                f"{path.relative_to(REPO)} imports {module}, from {name}, which pyproject.toml does not declare"


def test_the_import_check_finds_an_undeclared_package(tmp_path, monkeypatch):
    script = tmp_path / "conae" / "uses_yaml.py"
    script.parent.mkdir()
    script.write_text("def f():\n    import yaml\n    from .config import Config\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    found = imports(script)
    assert found == [("yaml", False), ("conae.config", False)]


def loaded_after(code):
    """The heavy libraries (HEAVY) a fresh interpreter has loaded after running code."""
    probe = f"import sys\n{code}\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    return last.split(",") if last else []


@pytest.mark.slow
def test_import_conae_and_the_help_of_every_command_load_no_heavy_library():
    assert loaded_after("import conae") == []
    help_of_all = "\n".join(f"try:\n    main([{command!r}, '--help'])\nexcept SystemExit:\n    pass"
                            for command in ("train", "sweep", "compare", "recognise"))
    assert loaded_after(f"from conae.cli import main\n{help_of_all}") == []
    assert "torch" in loaded_after("import conae\nconae.ConvAE")  # a name loads its module when first used


def module_graph():
    """{conae module: the conae modules it imports}, from every import in the package, in functions too."""
    graph = {}
    for path in python_files("conae"):
        name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        targets = set()
        for module, _ in imports(path):
            if module.startswith("conae."):
                parts = module.split(".")
                # "conae.offline.transfer" or "conae.config.Config": the longest prefix that is a module
                for n in range(len(parts), 1, -1):
                    candidate = REPO.joinpath(*parts[:n])
                    if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
                        targets.add(".".join(parts[:n]))
                        break
        graph[name] = targets - {name}
    return graph


def test_conaes_modules_import_one_another_without_a_circle():
    graph, state, path = module_graph(), {}, []

    def visit(module):  # depth first: a module met again while still on the path closes a circle
        state[module] = "open"
        path.append(module)
        for target in sorted(graph.get(module, ())):
            assert state.get(target) != "open", f"import circle: {' -> '.join(path[path.index(target):] + [target])}"
            if target not in state:
                visit(target)
        path.pop()
        state[module] = "done"
    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert {"conae.datasets", "conae.data", "conae.folder"} <= set(graph)
    assert graph["conae.datasets"] <= {"conae.errors"}  # the leaf the data modules share
