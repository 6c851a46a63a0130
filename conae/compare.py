"""Grids of runs: presets over many seeds beside the baselines (`python -m conae compare`, and its trade-off
figure), and one model per code size (`python -m conae sweep`).

Every preset x seed is trained on the same data and scored on the same test set, one after another or several
at once (conae.grid); the baselines (PCA, UMAP, t-SNE with as many components as the code has numbers) are
computed once, after the runs. Each finished run is kept in OUT/runs/PRESET-seed-N/ (its model.pt and
result.json), so an interrupted compare continues where it stopped.
"""
import json
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path

from .atomic import write_json
from .baselines import run_baseline
from .config import BASELINE_NAMES, BASELINES, HEADLINE_K, MAIN_K, ConfigError, check_setting, knn_at
from .evaluate import headline
from .grid import SERIAL, run_runs
from .viz import knn_cells, knn_columns, markdown_table


def sweep(cfg, dims, train_split, test_split, out_dir=None, verbose=True, plan=SERIAL):
    """Trains one model per code size in dims with cfg's recipe (plan: how the runs spread, conae.grid.plan); one
    row per size: the autoencoder's and PCA's test BCE, headline k-NN and
    linear-probe accuracy, and the training seconds. Each model is kept in out_dir/dim-N/ (model.pt, and
    result.json once finished), so a sweep run again continues where it stopped; without out_dir, in a
    temporary folder. train_split: as conae.data.load_splits(cfg) gives it (workers load it so)."""
    for dim in dims:
        check_setting("embedding_dim", dim)
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(out_dir or scratch)
        runs = [(f"embedding_dim {dim}", replace(cfg, embedding_dim=dim), out / f"dim-{dim}") for dim in dims]
        results = run_runs(runs, (train_split, test_split), (cfg.train_subset, cfg.seed), plan, verbose)
    rows = []
    for dim, result in zip(dims, results):  # PCA here, after the runs: it does not fight them for cores
        pca = run_baseline("pca", train_split, test_split, dim)
        rows.append(dict(
            embedding_dim=dim, test_bce=result["test_bce"], knn_accuracy=result["knn_accuracy"],
            linear_probe_accuracy=result["linear_probe_accuracy"], train_seconds=result["train_seconds"],
            ran_on=result["ran_on"],
            pca=headline(pca)))
    return rows


def median_of(runs):
    """The median of each number over runs."""
    return dict(test_bce=statistics.median(r["test_bce"] for r in runs),
                knn_accuracy={str(k): statistics.median(knn_at(r, k) for r in runs) for k in HEADLINE_K},
                linear_probe_accuracy=statistics.median(r["linear_probe_accuracy"] for r in runs),
                train_seconds=statistics.median(r["train_seconds"] for r in runs))


def check_same_images(configs):
    """ConfigError unless every preset of a comparison sees the same images (deskewed or not, as the baselines)."""
    kinds = {name: cfg.deskew for name, cfg in configs.items()}
    if len(set(kinds.values())) > 1:
        raise ConfigError("presets", "presets that deskew their images and presets that do not cannot share one "
                                     f"table ({', '.join(f'{n}: deskew {d}' for n, d in kinds.items())}): compare "
                                     "them separately")


def compare(configs, seeds, train_split, test_split, out_dir, baselines=BASELINES, verbose=True,
            training_subset=(0, 0), plan=SERIAL):
    """configs: {preset name: Config}; trains every preset x seed into out_dir/runs/PRESET-seed-N/ (plan: how the
    runs spread, conae.grid.plan), then computes the baselines once, here
    (out_dir/baselines.json, kept too); returns the comparison.json dict, assembled from the run folders.
    train_split, test_split: as conae.data.load_splits gives them for these configs, training_subset the (size,
    seed) of its subset, so that workers load the same images."""
    out = Path(out_dir)
    check_same_images(configs)  # before any run starts; conae.grid.run_runs checks the rest
    presets = [name for name in configs for _ in seeds]  # the preset of each run, in the runs' order
    grid_runs = [(f"{name}, seed {seed}", replace(cfg, seed=seed), out / "runs" / f"{name}-seed-{seed}")
                 for name, cfg in configs.items() for seed in seeds]
    results = run_runs(grid_runs, (train_split, test_split), training_subset, plan, verbose)
    runs = [dict(preset=name, **result) for name, result in zip(presets, results)]
    saved = out / "baselines.json"
    found = json.loads(saved.read_text()) if saved.is_file() else {}
    size = next(iter(configs.values())).embedding_dim
    for name in baselines:
        if name not in found:
            if verbose:
                print(f"{BASELINE_NAMES[name]} baseline:", flush=True)
            found[name] = headline(run_baseline(name, train_split, test_split, size))
            write_json(saved, found)
    return dict(dataset=next(iter(configs.values())).dataset, n_train=len(train_split), n_test=len(test_split),
                train_source=train_split.source, test_source=test_split.source, runs=runs,
                median={name: median_of([r for r in runs if r["preset"] == name]) for name in configs},
                baselines={name: found[name] for name in baselines})


def comparison_table(comparison):
    """The medians per preset and the baselines as a Markdown table (notebook and README)."""
    seeds = ", ".join(map(str, sorted({r["seed"] for r in comparison["runs"]})))
    rows = [[f"`{name}`, median of seeds {seeds}", f"{m['test_bce']:.4f}", *knn_cells(m),
             f"{m['linear_probe_accuracy']:.3f}", f"{m['train_seconds']:.0f}"] for name, m in comparison["median"].items()]
    rows += [[BASELINE_NAMES[name], "-" if b["test_bce"] is None else f"{b['test_bce']:.4f}", *knn_cells(b),
              f"{b['linear_probe_accuracy']:.3f}", ""] for name, b in comparison["baselines"].items()]
    return markdown_table(["method", "test BCE", *knn_columns(), "linear probe", "training s"], rows)


def seeds_table(comparison):
    """Every run of a comparison, seed by seed, and each preset's median, as a Markdown table (docs/results.md)."""
    def row(name, r):
        return [name, f"{r['test_bce']:.4f}", *knn_cells(r), f"{r['linear_probe_accuracy']:.3f}",
                f"{r['train_seconds']:.0f}"]
    rows = []
    for name, median in comparison["median"].items():
        mine = [r for r in comparison["runs"] if r["preset"] == name]
        rows += [row(f"`{name}`, seed {r['seed']}", r) for r in mine]
        if len(mine) > 1:
            rows.append(row(f"`{name}`, median of seeds {', '.join(str(r['seed']) for r in mine)}", median))
    return markdown_table(["run", "test BCE", *knn_columns(), "linear probe", "training s"], rows)


def sweep_table(rows):
    """A code-size sweep (sweep()'s rows) beside PCA of the same sizes, as a Markdown table (docs/results.md)."""
    return markdown_table(
        ["code size", "test BCE", "PCA test BCE", *knn_columns(), f"PCA {MAIN_K}-NN", "linear probe",
         "PCA linear probe"],
        [[r["embedding_dim"], f"{r['test_bce']:.4f}", f"{r['pca']['test_bce']:.4f}", *knn_cells(r),
          f"{knn_at(r['pca']):.3f}", f"{r['linear_probe_accuracy']:.3f}", f"{r['pca']['linear_probe_accuracy']:.3f}"]
         for r in rows])
