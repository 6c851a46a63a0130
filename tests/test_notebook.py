"""The notebook: run through papermill with tiny parameters, on a second data set, with bad parameters, and
re-executed with its defaults to reproduce the committed numbers."""
import json
import re
from dataclasses import asdict
from datetime import datetime

import nbformat
import papermill
import pytest

from conae.compare import comparison_table, seeds_table, sweep_table
from conae.config import config_from_dict, make_config
from conae.report import baseline_table
from tests.conftest import FIGURES, REPO
from tests.test_folder import SHAPES, write_shapes

NOTEBOOK = REPO / "ConAE.ipynb"
NOTEBOOK_FIGURES = FIGURES + ["explorer", "recognise", "number", "pad", "neighbours_latent", "neighbours_decoder_map", "tradeoff",
                              "code_size"]
TINY = dict(download=False, steps=20, neighbours_steps=20)
# the data settings of the committed sweep (docs/reproduce.md: conae sweep --data-root ../shared/data --no-download)
SWEEP_DATA = dict(data_root="../shared/data", download=False)


def run(tmp_path, **parameters):
    """The notebook executed by papermill with parameters (out_dir in tmp_path); returns it."""
    out = tmp_path / "executed.ipynb"
    papermill.execute_notebook(NOTEBOOK, out, parameters=dict(out_dir=str(tmp_path / "out"), **parameters),
                               cwd=REPO, kernel_name="python3", progress_bar=False)
    return nbformat.read(out, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def figure_cells(nb):
    return {c.metadata["figure"]: c for c in code_cells(nb) if "figure" in c.metadata}


def printed(nb):
    """Everything the notebook's code cells printed."""
    return "".join(o.get("text", "") for c in code_cells(nb) for o in c.outputs)


def markdown_outputs(nb):
    return [o["data"]["text/markdown"] for c in code_cells(nb) for o in c.outputs if "text/markdown" in o.get("data", {})]


def pngs(cell):
    return [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]


@pytest.mark.slow
def test_the_notebook_runs_headless_and_shows_every_figure_table_and_file(reexecuted_notebook):
    nb, out = reexecuted_notebook
    assert "parameters" in code_cells(nb)[0].metadata.get("tags", [])
    for name, cell in figure_cells(nb).items():
        assert len(pngs(cell)) == 1, f"figure cell {name} shows {len(pngs(cell))} images"
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["epochs"]) >= 10 and metrics["neighbours_preset"]["train_seconds"] > 0
    assert {"pca_baseline", "umap_baseline", "tsne_baseline"} <= set(metrics)
    text = printed(nb)
    assert f"train: {metrics['n_train']:,} images from " in text
    assert f"test BCE           {metrics['test_bce']:.4f}" in text
    assert re.search(r"Python 3\.\d+\.\d+, torch \S+, torchvision \S+, numpy", text)  # the environment, one line
    assert "saved sweep: train 5,000 images" in text and "code size 16" in text  # the saved MNIST sweep
    assert [r["embedding_dim"] for r in metrics["sweep"]["rows"]] == [1, 2, 3, 4, 8, 16]
    tables = markdown_outputs(nb)
    assert baseline_table(metrics) in tables
    assert comparison_table(json.loads((REPO / "outputs" / "comparison.json").read_text())) in tables
    assert (out / "latent_3d.html").stat().st_size > 1_000_000 and (out / "latent_3d.gif").is_file()


@pytest.mark.slow
def test_notebook_on_a_folder_of_your_own_characters_shows_no_mnist_results_as_its_own(tmp_path):
    """A second data set through papermill: a folder of images (ImageFolder layout), which every other data set's
    path shares from the notebook's first cell on."""
    write_shapes(tmp_path / "shapes")
    nb = run(tmp_path, dataset=f"folder:{tmp_path / 'shapes'}", baselines="pca", **TINY)
    text = printed(nb)
    assert "train: 40 images from folder shapes, all but a sixth of each class (a fixed split" in text
    assert "No code-size sweep saved for folder shapes" in text and "conae sweep --dataset folder:" in text
    assert "No comparison saved for folder shapes" in text
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert tuple(metrics["classes"]) == SHAPES and "sweep" not in metrics and "comparison" not in metrics
    assert metrics["n_train"] == 40 and metrics["steps"] == 20 and len(metrics["epochs"]) == 10  # the parameters
    assert all(len(pngs(cell)) == 1 for cell in figure_cells(nb).values() if cell.metadata["figure"] not in
               ("tradeoff", "code_size"))  # every figure of the run, with the folder's 4 classes


@pytest.mark.slow
@pytest.mark.parametrize("parameters, error", [  # a setting (every one goes through conae.config's one check) and data
    (dict(dataset="letters"), "ConfigError: dataset = 'letters': choose one of mnist, fashion-mnist"),
    (dict(data_root="no/such/folder", download=False), "DataError: data_root 'no/such/folder' does not exist"),
])
def test_a_bad_parameter_is_one_clear_error_in_the_first_cells(tmp_path, parameters, error):
    with pytest.raises(papermill.PapermillExecutionError) as failed:
        run(tmp_path, **parameters)
    cells = [c for c in nbformat.read(tmp_path / "executed.ipynb", as_version=4).cells  # as executed: without
             if "papermill-error-cell-tag" not in c.metadata.get("tags", [])]          # papermill's error notes
    setup = next(i for i, c in enumerate(cells) if c.cell_type == "code" and "injected-parameters" in
                 c.metadata.get("tags", [])) + 1
    assert failed.value.cell_index == setup  # the cell right after the parameters, before any work
    assert len(failed.value.traceback) == 1 and failed.value.traceback[0].startswith(error)  # one line


def cell_span(nb):
    """Seconds from the first code cell's start to the last one's end, as the executed notebook records them."""
    cells = code_cells(nb)
    start, end = (datetime.fromisoformat(cells[i].metadata["execution"][key].replace("Z", "+00:00"))
                  for i, key in ((0, "iopub.execute_input"), (-1, "shell.execute_reply")))
    return (end - start).total_seconds()


def minutes(seconds):
    """187.4 -> "3 min 7 s", as the README writes a duration."""
    whole_minutes, rest = divmod(round(seconds), 60)
    return f"{whole_minutes} min {rest} s"


def test_committed_notebook_outputs_and_readme_agree():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    figures = figure_cells(nb)
    assert sorted(figures) == sorted(NOTEBOOK_FIGURES)  # the same names the CLI gives its PNGs, and the rest
    for name, cell in figures.items():
        assert len(pngs(cell)) == 1, f"committed notebook: figure {name} not executed"
        assert (REPO / "outputs" / f"{name}.png").is_file()
    metrics = json.loads((REPO / "outputs" / "metrics.json").read_text())
    text = printed(nb)
    readme, results = (REPO / "README.md").read_text(), (REPO / "docs" / "results.md").read_text()
    bce, knn1, knn5 = f"{metrics['test_bce']:.4f}", f"{metrics['knn_accuracy']['1']:.3f}", f"{metrics['knn_accuracy']['5']:.3f}"
    for name in ("train", "test"):  # the data metrics.json names is the data the notebook said it used (then deskewed)
        source = metrics[f"{name}_source"]
        if metrics["config"]["deskew"]:
            assert source.endswith(", deskewed")
            source = source[:-len(", deskewed")]
        assert f"{name}: {metrics[f'n_{name}']:,} images from {source}\n" in text
    assert f"test BCE           {bce}" in text and f"5-NN accuracy       {knn5}" in text, \
        "outputs/metrics.json is not from the committed notebook"
    row = (f"| {bce} | {knn1} | {knn5} | {metrics['train_seconds']:.0f} s ({metrics['images_per_second']:,.0f} "
           f"images/s, {metrics['device']}, {metrics['precision']}) | {minutes(cell_span(nb))} |")
    assert row in readme, f"README does not quote outputs/metrics.json and the notebook's cell times: {row}"
    assert f"outputs/ (about {round(cell_span(nb) / 60)} min)" in readme  # make run's line
    install = (REPO / "docs" / "install.md").read_text()
    assert (f"its cells ran for {minutes(cell_span(nb))}: {metrics['train_seconds']:.0f} s training the `default` "
            f"model, {metrics['neighbours_preset']['train_seconds']:.0f} s the `neighbours` model") in install
    assert baseline_table(metrics) in results, "docs/results.md's baseline table is not from outputs/metrics.json"
    neighbours = metrics["neighbours_preset"]
    assert f"reaches test BCE {neighbours['test_bce']:.4f} and 5-NN {neighbours['knn_accuracy']['5']:.3f}" in results
    comparison = json.loads((REPO / "outputs" / "comparison.json").read_text())
    assert comparison_table(comparison) in readme, "README's comparison table is not outputs/comparison.json"
    assert seeds_table(comparison) in results, "docs/results.md's per-seed table is not outputs/comparison.json"
    original = json.loads((REPO / "outputs" / "original.json").read_text())
    assert seeds_table(original) in results, "docs/results.md's original row is not outputs/original.json"
    sweep = json.loads((REPO / "outputs" / "sweep.json").read_text())
    assert sweep_table(sweep["rows"]) in results, "docs/results.md's code-size table is not outputs/sweep.json"
    today = {**asdict(make_config("default")), **SWEEP_DATA}
    assert asdict(config_from_dict(sweep["config"])) == today, "outputs/sweep.json is not of today's default recipe"
    for row in sweep["rows"]:
        assert f"code size {row['embedding_dim']:2d}: test BCE {row['test_bce']:.4f}" in text
    for name in ("latent_3d.html", "latent_3d.gif"):
        assert (REPO / "outputs" / name).is_file() and f"outputs/{name}" in readme
    committed = "".join(json.dumps(o) for c in code_cells(nb) for o in c.outputs) + json.dumps(metrics)
    assert not re.search(r"/(tmp|home|Users|work)/", committed), "a machine path in the committed outputs"


def test_every_relative_link_and_image_in_the_readme_and_docs_exists():
    pages = [REPO / "README.md", REPO / "bench" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    checked = 0
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target):  # a web address
                continue
            path, _, heading = target.partition("#")
            linked = page.parent / path if path else page
            assert linked.exists(), f"{page.relative_to(REPO)} links to {target}, which does not exist"
            if heading:
                assert heading in anchors(linked), f"{page.relative_to(REPO)} links to {target}: no such heading"
            checked += 1
    assert checked > 20


def anchors(page):
    """The anchors GitHub gives a Markdown page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_the_readme_fits_on_a_screen_and_links_every_docs_page():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    for page in sorted((REPO / "docs").glob("*.md")):
        assert f"](docs/{page.name})" in readme, f"README does not link docs/{page.name}"


def test_the_prose_of_the_results_quotes_the_committed_files():
    """Numbers docs/results.md writes in its sentences, each computed here from the committed file it comes from."""
    results = " ".join((REPO / "docs" / "results.md").read_text().split())  # a sentence may break across lines
    comparison = json.loads((REPO / "outputs" / "comparison.json").read_text())
    default, neighbours = comparison["median"]["default"], comparison["median"]["neighbours"]
    umap, tsne, pca = (comparison["baselines"][name] for name in ("umap", "tsne", "pca"))
    five = {name: f"{m['knn_accuracy']['5']:.3f}" for name, m in
            dict(default=default, neighbours=neighbours, umap=umap, tsne=tsne, pca=pca).items()}
    phrases = [
        f"(5-NN {five['neighbours']} against {five['umap']} and {five['tsne']})",
        f"linear probe rises from {default['linear_probe_accuracy']:.3f} to {neighbours['linear_probe_accuracy']:.3f}",
        f"{neighbours['test_bce'] / default['test_bce']:.3f}x the plain objective's ({neighbours['test_bce']:.4f} "
        f"against {default['test_bce']:.4f}) and {pca['test_bce'] - neighbours['test_bce']:.3f} better than PCA's",
    ]
    rows = {r["embedding_dim"]: r for r in json.loads((REPO / "outputs" / "sweep.json").read_text())["rows"]}
    seconds = [r["train_seconds"] for r in rows.values()]
    phrases += [
        f"(3 numbers: 5-NN {rows[3]['knn_accuracy']['5']:.3f} against PCA's {rows[3]['pca']['knn_accuracy']['5']:.3f})",
        f"a fourth number buys 5-NN {rows[3]['knn_accuracy']['5']:.3f} to {rows[4]['knn_accuracy']['5']:.3f}",
        f"gets more from three numbers ({five['neighbours']}) than the plain one gets from eight "
        f"({rows[8]['knn_accuracy']['5']:.3f})",
        f"({min(seconds):.0f} to {max(seconds):.0f} s per size)",
    ]
    for phrase in phrases:
        assert phrase in results, f"docs/results.md does not say: {phrase}"
    assert float(five["neighbours"]) > float(rows[8]["knn_accuracy"]["5"])  # what the sentence claims
