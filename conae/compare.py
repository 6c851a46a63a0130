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

import matplotlib.pyplot as plt

from .baselines import BASELINES, NAMES, run_baseline
from .config import HEADLINE_K, ConfigError, check_setting
from .evaluate import headline
from .grid import run_runs
from .report import write_json
from .viz import class_colors, class_legend, scatter_3d, scatter_points


def sweep(cfg, dims, train_split, test_split, out_dir=None, verbose=True, **grid):
    """Trains one model per code size in dims with cfg's recipe (see conae.grid; grid: jobs, threads_per_run,
    backend, address); one row per size: the autoencoder's and PCA's test BCE, k-NN (k = 1 and 5) and
    linear-probe accuracy, and the training seconds. Each model is kept in out_dir/dim-N/ (model.pt, and
    result.json once finished), so a sweep run again continues where it stopped; without out_dir, in a
    temporary folder. train_split: as conae.data.load_splits(cfg) gives it (workers load it so)."""
    for dim in dims:
        check_setting("embedding_dim", dim)
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(out_dir or scratch)
        runs = [(f"embedding_dim {dim}", replace(cfg, embedding_dim=dim), out / f"dim-{dim}") for dim in dims]
        results = run_runs(runs, (train_split, test_split), (cfg.train_subset, cfg.seed), verbose=verbose, **grid)
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
                knn_accuracy={str(k): statistics.median(r["knn_accuracy"][str(k)] for r in runs) for k in HEADLINE_K},
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
            training_subset=(0, 0), **grid):
    """configs: {preset name: Config}; trains every preset x seed into out_dir/runs/PRESET-seed-N/ (see
    conae.grid; grid: jobs, threads_per_run, backend, address), then computes the baselines once, here
    (out_dir/baselines.json, kept too); returns the comparison.json dict, assembled from the run folders.
    train_split, test_split: as conae.data.load_splits gives them for these configs, training_subset the (size,
    seed) of its subset, so that workers load the same images."""
    out = Path(out_dir)
    check_same_images(configs)  # before any run starts; conae.grid.run_runs checks the rest
    presets = [name for name in configs for _ in seeds]  # the preset of each run, in the runs' order
    grid_runs = [(f"{name}, seed {seed}", replace(cfg, seed=seed), out / "runs" / f"{name}-seed-{seed}")
                 for name, cfg in configs.items() for seed in seeds]
    results = run_runs(grid_runs, (train_split, test_split), training_subset, verbose=verbose, **grid)
    runs = [dict(preset=name, **result) for name, result in zip(presets, results)]
    saved = out / "baselines.json"
    found = json.loads(saved.read_text()) if saved.is_file() else {}
    size = next(iter(configs.values())).embedding_dim
    for name in baselines:
        if name not in found:
            if verbose:
                print(f"{NAMES[name]} baseline:", flush=True)
            found[name] = headline(run_baseline(name, train_split, test_split, size))
            write_json(saved, found)
    return dict(dataset=next(iter(configs.values())).dataset, n_train=len(train_split), n_test=len(test_split),
                train_source=train_split.source, test_source=test_split.source, runs=runs,
                median={name: median_of([r for r in runs if r["preset"] == name]) for name in configs},
                baselines={name: found[name] for name in baselines})


def comparison_table(comparison):
    """The medians per preset and the baselines as a Markdown table (notebook and README)."""
    seeds = sorted({r["seed"] for r in comparison["runs"]})
    lines = ["| method | test BCE | 1-NN | 5-NN | linear probe | training s |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, m in comparison["median"].items():
        lines.append(f"| `{name}`, median of seeds {', '.join(map(str, seeds))} | {m['test_bce']:.4f} | "
                     f"{m['knn_accuracy']['1']:.3f} | {m['knn_accuracy']['5']:.3f} | "
                     f"{m['linear_probe_accuracy']:.3f} | {m['train_seconds']:.0f} |")
    for name, b in comparison["baselines"].items():
        bce = "-" if b["test_bce"] is None else f"{b['test_bce']:.4f}"
        lines.append(f"| {NAMES[name]} | {bce} | {b['knn_accuracy']['1']:.3f} | {b['knn_accuracy']['5']:.3f} | "
                     f"{b['linear_probe_accuracy']:.3f} | |")
    return "\n".join(lines)


def seeds_table(comparison):
    """Every run of a comparison, seed by seed, and each preset's median, as a Markdown table (docs/results.md)."""
    lines = ["| run | test BCE | 1-NN | 5-NN | linear probe | training s |", "| --- | --- | --- | --- | --- | --- |"]

    def row(name, r):
        return (f"| {name} | {r['test_bce']:.4f} | {r['knn_accuracy']['1']:.3f} | {r['knn_accuracy']['5']:.3f} | "
                f"{r['linear_probe_accuracy']:.3f} | {r['train_seconds']:.0f} |")
    for name, median in comparison["median"].items():
        mine = [r for r in comparison["runs"] if r["preset"] == name]
        lines += [row(f"`{name}`, seed {r['seed']}", r) for r in mine]
        if len(mine) > 1:
            lines.append(row(f"`{name}`, median of seeds {', '.join(str(r['seed']) for r in mine)}", median))
    return "\n".join(lines)


def sweep_table(rows):
    """A code-size sweep (sweep()'s rows) beside PCA of the same sizes, as a Markdown table (docs/results.md)."""
    lines = ["| code size | test BCE | PCA test BCE | 1-NN | 5-NN | PCA 5-NN | linear probe | PCA linear probe |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        pca = r["pca"]
        lines.append(f"| {r['embedding_dim']} | {r['test_bce']:.4f} | {pca['test_bce']:.4f} | "
                     f"{r['knn_accuracy']['1']:.3f} | {r['knn_accuracy']['5']:.3f} | {pca['knn_accuracy']['5']:.3f} | "
                     f"{r['linear_probe_accuracy']:.3f} | {pca['linear_probe_accuracy']:.3f} |")
    return "\n".join(lines)


def plot_tradeoff(comparison):
    """Test BCE against 5-NN accuracy: every run (one colour per preset), the medians as large markers, the
    baselines as points where they have a BCE, else as a horizontal line at their 5-NN."""
    fig, ax = plt.subplots(figsize=(8, 5.2))
    for i, (name, median) in enumerate(comparison["median"].items()):
        mine = [r for r in comparison["runs"] if r["preset"] == name]
        color = f"C{i}"
        ax.scatter([r["test_bce"] for r in mine], [r["knn_accuracy"]["5"] for r in mine], color=color, s=30,
                   alpha=0.6, label=f"{name}, each seed")
        ax.scatter(median["test_bce"], median["knn_accuracy"]["5"], color=color, s=220, marker="*",
                   edgecolors="black", zorder=3, label=f"{name}, median of {len(mine)}")
    styles = iter(["--", "-.", ":"])
    for j, (name, b) in enumerate(comparison["baselines"].items()):
        color = f"C{len(comparison['median']) + j}"
        if b["test_bce"] is None:
            ax.axhline(b["knn_accuracy"]["5"], color=color, ls=next(styles),
                       label=f"{NAMES[name]} (no decoder), 5-NN {b['knn_accuracy']['5']:.3f}")
        else:
            ax.scatter(b["test_bce"], b["knn_accuracy"]["5"], color=color, marker="s", s=60,
                       label=f"{NAMES[name]}, {b['test_bce']:.3f} / {b['knn_accuracy']['5']:.3f}")
    ax.set_xlabel("test BCE per pixel (lower: better reconstructions)")
    ax.set_ylabel("5-NN test accuracy (higher: a code that recognises)")
    ax.set_title(f"Reconstruction against recognition, 3-number codes ({comparison['n_train']:,} training images)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def plot_codes_side_by_side(models, split, max_points=3000, view=(25, -60)):
    """The 3-D codes of split's images under each model ({name: model}), side by side, coloured by class."""
    fig = plt.figure(figsize=(5.5 * len(models) + 1.5, 5.2))
    palette = class_colors(len(split.classes))
    for i, (name, model) in enumerate(models.items()):
        codes, labels = scatter_points(model, split, max_points)
        ax = fig.add_subplot(1, len(models), i + 1, projection="3d")
        scatter_3d(ax, codes, labels, palette, 3)
        ax.view_init(*view)
        ax.set_title(name)
    free = class_legend(fig, split.classes, palette)
    fig.suptitle(f"The same {len(codes):,} test images in each 3-number code")
    fig.tight_layout(rect=(0, 0, free, 1))
    return fig
