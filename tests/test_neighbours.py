"""A code that keeps neighbours: the UMAP and t-SNE baselines, the neighbours preset, and compare."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import conae.grid
from conae import baselines
from conae.cli import main
from conae.compare import comparison_table
from conae.config import ConfigError, baseline_names, make_config
from conae.data import load_data
from conae.neighbours import layout, neighbour_loss
from conae.recognise import load_reference
from conae.train import fit
from conae.viz import plot_tradeoff
from tests.conftest import write_split
from tests.test_robustness import assert_one_line_error, assert_same_run, tree

QUICK = ["--steps", "20", "--batch-size", "32", "--no-download"]


@pytest.mark.parametrize("name", ["umap", "tsne"])
def test_neighbour_embeddings_are_fitted_on_training_images_and_place_the_test_images(splits, name):
    train, test = splits
    result = baselines.run_baseline(name, train, test, 3)
    assert result["test_bce"] is None  # no decoder to score
    assert set(result) >= {"knn_accuracy", "best_k", "best_knn_accuracy", "confusion_matrix", "linear_probe_accuracy"}
    assert list(result["knn_accuracy"]) == [str(k) for k in range(1, 26)]
    assert result["n_fit"] == len(train) and result["fit_subset"] == "all training images"
    assert result["best_knn_accuracy"] > 0.5  # the bar's height is the class: a neighbour embedding sees it


def test_neighbour_embeddings_are_fitted_on_a_fixed_subset_of_a_large_training_set(splits, monkeypatch):
    monkeypatch.setenv("CONAE_CACHE", "off")  # computed twice: the same subset and the same codes
    train, test = splits
    result = baselines.run_baseline("umap", train, test, 2, max_fit=40)
    assert result["n_fit"] == 40 and result["fit_subset"] == "a fixed random 40 of the 60 training images"
    assert result == {**baselines.run_baseline("umap", train, test, 2, max_fit=40), "seconds": result["seconds"]}


def test_baseline_names():
    assert baseline_names("pca, UMAP,tsne,pca") == ("pca", "umap", "tsne")
    assert baseline_names("none") == ()
    with pytest.raises(ConfigError, match="unknown baseline 'isomap': choose from pca, umap, tsne"):
        baseline_names("pca,isomap")


@pytest.mark.slow
def test_train_with_every_baseline_writes_them_and_draws_them(tiny_root, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--data-root", str(tiny_root), "--out", str(out), "--baselines", "pca,umap,tsne",
                 *QUICK]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["pca_baseline"]["test_bce"] > 0 and "explained_variance" in metrics["pca_baseline"]
    assert metrics["umap_baseline"]["test_bce"] is None and metrics["tsne_baseline"]["test_bce"] is None
    assert {"umap-learn", "openTSNE"} <= set(metrics["environment"]["packages"])
    assert (out / "knn_curve.png").is_file()


def test_an_unknown_baseline_is_one_line_and_writes_nothing(tiny_root, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--data-root", str(tiny_root), "--out", str(tmp_path / "run"), "--baselines", "pca,lda"])
    assert stop.value.code == 2 and not (tmp_path / "run").exists()
    assert "unknown baseline 'lda'" in capsys.readouterr().err.splitlines()[-1]


def test_the_layout_is_standardised_and_only_for_training_images(splits):
    train, _ = splits
    cfg = make_config("neighbours", layout_max=50)
    targets, seconds = layout(cfg, train, verbose=False)
    assert targets.shape == (60, 3) and seconds > 0
    known = ~targets.isnan().any(dim=1)
    assert known.sum() == 50  # a fixed random 50 of the 60: the others get no neighbour term
    assert targets[known].mean(0).abs().max() < 1e-4 and targets[known].std(unbiased=False).item() == pytest.approx(1, abs=1e-3)
    codes = torch.zeros(60, 3)
    assert neighbour_loss(codes, targets) == pytest.approx(float((targets[known] ** 2).mean()))


@pytest.mark.slow
def test_the_neighbours_preset_pulls_codes_towards_the_layout(tiny_root):
    train, test = load_data(tiny_root, download=False)
    plain = make_config("default", steps=60, batch_size=32)
    keeping = make_config("neighbours", steps=60, batch_size=32)
    assert keeping.neighbours > 0 and plain.neighbours == 0 and make_config("original").neighbours == 0
    targets, _ = layout(keeping, train, verbose=False)
    distance = {}
    for name, cfg in (("plain", plain), ("neighbours", keeping)):
        model, history, _ = fit(cfg, train, test, verbose=False)
        with torch.no_grad():
            codes = model.encode(train.images.unsqueeze(1).float() / 255)
        distance[name] = neighbour_loss(codes, targets).item()
        if name == "neighbours":
            assert history[0]["train_loss"] > history[0]["train_bce"]  # the term is in the objective
            assert history[0]["seconds"] > history[1]["seconds"]  # the first point counts the layout's time
    assert distance["neighbours"] < 0.5 * distance["plain"]


@pytest.mark.slow
def test_neighbours_resume_is_bitwise(tiny_root, tmp_path, monkeypatch, no_figures):
    flags = ["--preset", "neighbours", *QUICK]
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert main(["train", "--data-root", str(tiny_root), "--out", str(whole), *flags]) == 0
    real_step, steps = torch.optim.AdamW.step, []

    def step_then_interrupt(self, *args, **kwargs):
        steps.append(1)
        if len(steps) == 11:
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", step_then_interrupt)
    assert main(["train", "--data-root", str(tiny_root), "--out", str(parts), *flags]) == 130
    monkeypatch.setattr(torch.optim.AdamW, "step", real_step)
    assert main(["train", "--out", str(parts), "--resume"]) == 0
    assert_same_run(whole, parts)


def test_neighbours_on_fewer_images_than_neighbours_is_one_line_and_writes_nothing(tmp_path, capsys):
    root = tmp_path / "data"
    write_split(root, "train", 12, seed=1, gz=True)
    write_split(root, "t10k", 10, seed=2, gz=True)
    before = tree(root)
    for command in (["train", "--preset", "neighbours"], ["compare"]):
        out = tmp_path / command[0]
        assert main([*command, "--data-root", str(root), "--out", str(out), "--no-download"]) == 1
        assert_one_line_error(capsys, "needs more training images than its 15 neighbours per image; this run has 12")
        assert not out.exists() and tree(root) == before


@pytest.mark.slow
def test_compare_writes_the_comparison_and_continues_where_it_stopped(tiny_root, tmp_path, monkeypatch, capsys):
    out = tmp_path / "compare"
    args = ["compare", "--data-root", str(tiny_root), "--out", str(out), "--seeds", "0,1", "--steps", "12",
            "--no-download"]
    real_fit, fits = conae.grid.fit, []

    def fit_then_interrupt(*a, **k):
        fits.append(1)
        if len(fits) == 3:  # the third run (neighbours, seed 0) is interrupted
            raise KeyboardInterrupt
        return real_fit(*a, **k)

    monkeypatch.setattr(conae.grid, "fit", fit_then_interrupt)
    assert main(args) == 130
    assert "the finished runs are kept" in capsys.readouterr().err
    # the interrupted run had written nothing yet: no folder of it, not even an empty one
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["default-seed-0", "default-seed-1"]
    monkeypatch.setattr(conae.grid, "fit", lambda *a, **k: (fits.append(1), real_fit(*a, **k))[1])
    assert main(args) == 0
    assert len(fits) == 3 + 2  # the two finished runs were not trained again
    comparison = json.loads((out / "comparison.json").read_text())
    assert set(comparison) == {"dataset", "n_train", "n_test", "train_source", "test_source", "runs", "median",
                               "baselines"}
    assert [(r["preset"], r["seed"]) for r in comparison["runs"]] == [("default", 0), ("default", 1),
                                                                     ("neighbours", 0), ("neighbours", 1)]
    run = comparison["runs"][0]
    assert set(run) == {"preset", "seed", "embedding_dim", "test_bce", "knn_accuracy", "linear_probe_accuracy",
                        "train_seconds", "ran_on"}
    assert set(run["knn_accuracy"]) == {"1", "5"} and run["train_seconds"] > 0
    assert set(comparison["median"]) == {"default", "neighbours"}
    pair = [r["knn_accuracy"]["5"] for r in comparison["runs"][:2]]
    assert comparison["median"]["default"]["knn_accuracy"]["5"] == pytest.approx(np.median(pair))
    assert set(comparison["baselines"]) == {"pca", "umap", "tsne"}
    assert comparison["baselines"]["umap"]["test_bce"] is None and comparison["baselines"]["pca"]["test_bce"] > 0
    assert (out / "tradeoff.png").is_file()
    assert "| `neighbours`, median of seeds 0, 1 |" in comparison_table(comparison)
    reference = load_reference(out / "runs" / "neighbours-seed-1" / "model.pt")  # compare's models recognise too
    assert len(reference.train_codes) == 300 and reference.classes[0] == "0"


def test_tradeoff_figure_draws_runs_medians_and_baselines():
    runs = [dict(preset=p, seed=s, test_bce=0.17 + 0.01 * s, knn_accuracy={"1": 0.7, "5": 0.75 + 0.1 * (p == "n")},
                 linear_probe_accuracy=0.7, train_seconds=60) for p in ("d", "n") for s in (0, 1, 2)]
    comparison = dict(n_train=5000, runs=runs, median={p: runs[3 * i + 1] for i, p in enumerate(("d", "n"))},
                      baselines=dict(pca=dict(test_bce=0.22, knn_accuracy={"1": 0.4, "5": 0.48}),
                                     umap=dict(test_bce=None, knn_accuracy={"1": 0.88, "5": 0.907})))
    fig = plot_tradeoff(comparison)
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "n: median of 3 seeds" in legend and "UMAP (no decoder): 5-NN 0.907" in legend
    assert "PCA: BCE 0.220, 5-NN 0.480 (below the chart)" in legend  # far below the runs: marked at the bottom
    assert [line.get_ydata()[0] for line in ax.get_lines()] == [0.907]  # a baseline without a BCE: a line
    assert "BCE" in ax.get_xlabel() and "5-NN" in ax.get_ylabel() and ax.get_title()
    seeds, stars = ax.collections[1], ax.collections[0]  # each preset's seeds are drawn over its median
    assert seeds.get_zorder() > stars.get_zorder() and len(seeds.get_offsets()) == 3
    low, high = ax.get_ylim()
    assert low < 0.75 and 0.907 < high and low > 0.48


def test_the_layout_leaves_the_runs_torch_threads_as_they_were(splits):
    from conae.neighbours import layout
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        layout(make_config("neighbours", n_neighbors=5), splits[0], verbose=False)  # UMAP's numba resets OpenMP
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_umap_is_handed_exact_neighbours_as_a_symmetric_distance_matrix(splits):
    from conae.baselines import nearest_distances
    from conae.data import flat
    train, test = (flat(s.images).astype(np.float64) for s in splits)
    graph = nearest_distances(train, train, 5, same=True)
    assert graph.shape == (60, 60) and (graph != graph.T).nnz == 0  # symmetric, as UMAP checks
    for i in range(60):  # each image is its own first neighbour, its zero stored, then its 4 nearest others
        row = dict(zip(graph[i].indices.tolist(), graph[i].data.tolist()))
        assert row[i] == 0
        others = np.sort(np.delete(np.linalg.norm(train - train[i], axis=1), i))[:4]
        assert np.allclose(sorted(v for j, v in row.items() if j != i)[:4], others)
    placing = nearest_distances(test, train, 5)
    assert placing.shape == (40, 60) and (placing.getnnz(axis=1) == 5).all()
    assert np.allclose(placing[0].data, np.sort(np.linalg.norm(train - test[0], axis=1))[:5])


@pytest.mark.slow
def test_umap_is_imported_with_numbas_disk_cache_so_later_processes_skip_compiling():
    probe = ("from conae.compiled import import_umap; umap = import_umap(); import numba; "
             "print(type(umap.umap_.compute_membership_strengths._cache).__name__, numba.njit.__module__)")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert shown == ["FunctionCache", "numba.core.decorators"]  # cached on disk; numba itself left as it was
