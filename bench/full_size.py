"""The `neighbours` preset at full size: Fashion-MNIST on a random 5,000 of its training images and on all 60,000,
beside `default` and UMAP's and t-SNE's 3 numbers fitted on the same images, every number on the official 10,000
test images; then, at the largest size, a curve of `neighbours`' 5-NN against its training seconds.

    python -m bench.full_size [--data-root DIR] [--seeds 0,1,2] [--sizes 60000,5000] [--curve 2000,12000,20785]
                              [--set FIELD=VALUE ...]

Without --data-root, Debian's dataset-fashion-mnist package is used (linked into a temporary data root). Every run
trains in this process, one after another, on the images as the presets see them (deskewed). UMAP is handed each
image's exact nearest neighbours (conae.baselines); UMAP and t-SNE are fitted on all the training images of the
size, not a subset, with their fixed seed (conae.baselines), so they are fitted once per size (their seconds are
those of the run that computed them: CONAE_CACHE=EMPTY_DIR times them here). Prints a row per run
as it ends (test BCE, 1-NN, 5-NN and seconds: for the presets, layout plus training), then per size the median over
the seeds, the ratios the targets ask for, and the curve: the same preset and seed with other budgets of steps
(--curve; the preset's own budget is the seed's row). --set changes a field of the `neighbours` preset for every
run of it (a lever: --set neighbours_decay=0 --set elastic=0.0; the value is read as JSON).
"""
import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from conae.baselines import run_baseline
from conae.config import make_config
from conae.data import load_splits
from conae.evaluate import knn_accuracy, split_codes
from conae.offline.files import link_debian_files
from conae.train import fit

REPO = Path(__file__).resolve().parents[1]

PRESETS = ("default", "neighbours")
EMBEDDINGS = {"umap": "UMAP, 3 numbers", "tsne": "t-SNE, 3 numbers"}


def trained(preset, root, subset, seed, steps=None, changes=None):
    """dict(bce, knn {1: 1-NN, 5: 5-NN}, seconds: layout plus training, steps) of one run."""
    cfg = make_config(preset, dataset="fashion-mnist", data_root=str(root), download=False, train_subset=subset,
                      seed=seed, steps=steps, **(changes or {}))
    train, test = load_splits(cfg, verbose=False)
    model, history, _ = fit(cfg, train, test, verbose=False)
    train_codes, test_codes, test_bce = split_codes(model, train, test)
    knn = knn_accuracy(train_codes, train.labels.numpy(), test_codes, test.labels.numpy())
    return dict(bce=test_bce, knn=knn, seconds=sum(h["seconds"] for h in history), steps=history[-1]["step"])


def embedded(name, root, subset):
    """dict(knn, seconds) of UMAP's or t-SNE's 3 numbers fitted on all the training images of the run's size."""
    cfg = make_config("default", dataset="fashion-mnist", data_root=str(root), download=False, train_subset=subset)
    train, test = load_splits(cfg, verbose=False)
    numbers = run_baseline(name, train, test, 3, max_fit=len(train))
    # the seconds fitting and placing took (an earlier run's where conae.cache had the codes: run with
    # CONAE_CACHE set to an empty folder to time them here)
    return dict(bce=None, knn={int(k): v for k, v in numbers["knn_accuracy"].items()}, seconds=numbers["seconds"],
                cached=numbers["from_cache"])


def row(size, code, result):
    bce = "-" if result["bce"] is None else f"{result['bce']:.4f}"
    cached = " (cached)" if result.get("cached") else ""
    return (f"| {size:,} | {code} | {bce} | {result['knn'][1]:.3f} | {result['knn'][5]:.3f} | "
            f"{result['seconds']:.0f}{cached} |")


def median(results, pick):
    return statistics.median(pick(r) for r in results)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="a folder holding FashionMNIST/raw/ (default: Debian's package)")
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the presets' runs, comma-separated")
    parser.add_argument("--sizes", default="60000,5000", help="training-set sizes, comma-separated (60000: all)")
    parser.add_argument("--curve", default="2000,12000,20785",
                        help="other budgets of steps for the curve at the largest size (none: no curve)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="change a field of the neighbours preset (a JSON value), for every run of it")
    args = parser.parse_args()
    changes = {field: json.loads(value) for field, value in (change.split("=", 1) for change in args.set)}
    root = args.data_root or tempfile.mkdtemp()
    if not args.data_root and not link_debian_files("fashion-mnist", root):
        sys.exit("no --data-root and no Debian dataset-fashion-mnist package")
    seeds = [int(s) for s in args.seeds.split(",")]
    if changes:
        print(f"the neighbours preset with {changes}", flush=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    subset = {size: 0 if size >= 60000 else size for size in sizes}  # 0: all the training images
    runs, rows = {}, []

    def record(size, code, result):
        runs.setdefault((size, code), []).append(result)
        rows.append(row(size, code, result))
        print(rows[-1], flush=True)

    for size in sizes:
        for seed in seeds:
            for preset in PRESETS:
                record(size, f"`{preset}`, seed {seed}",
                       trained(preset, root, subset[size], seed, changes=changes if preset == "neighbours" else None))
        for name, code in EMBEDDINGS.items():
            record(size, code, embedded(name, root, subset[size]))
    curve = [] if args.curve == "none" else [int(s) for s in args.curve.split(",")]
    largest = max(sizes)
    points = [(r["steps"], r["seconds"], r["knn"][5]) for r in runs[largest, f"`neighbours`, seed {seeds[0]}"]]
    for steps in curve:
        result = trained("neighbours", root, subset[largest], seeds[0], steps, changes)
        points.append((steps, result["seconds"], result["knn"][5]))
        print(f"curve: {steps:,} steps, {result['seconds']:.0f} s, 5-NN {result['knn'][5]:.3f}", flush=True)

    print("\n| training images | code | test BCE | 1-NN | 5-NN | seconds |\n| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print(f"\nmedians over seeds {args.seeds}:")
    knn5_at = {}  # size -> {"neighbours": median 5-NN over the seeds, "umap": UMAP's (fitted once per size)}
    for size in sizes:
        presets = {p: [r for s in seeds for r in runs[size, f"`{p}`, seed {s}"]] for p in PRESETS}
        knn5 = {p: median(rs, lambda r: r["knn"][5]) for p, rs in presets.items()}
        bce = {p: median(rs, lambda r: r["bce"]) for p, rs in presets.items()}
        seconds = median(presets["neighbours"], lambda r: r["seconds"])
        others = {code: runs[size, code][0]["knn"][5] for code in EMBEDDINGS.values()}
        print(f"{size:,}: neighbours 5-NN {knn5['neighbours']:.3f} (default {knn5['default']:.3f}, "
              + ", ".join(f"{code} {v:.3f}" for code, v in others.items())
              + f"); test BCE {bce['neighbours']:.4f} = {bce['neighbours'] / bce['default']:.3f}x default's; "
              f"{seconds:.0f} s layout plus training")
        knn5_at[size] = dict(neighbours=knn5["neighbours"], umap=others[EMBEDDINGS["umap"]])
    if len(sizes) > 1:
        small = min(sizes)
        gain = {code: knn5_at[largest][code] - knn5_at[small][code] for code in ("neighbours", "umap")}
        print(f"5-NN gain from {small:,} to {largest:,} images: neighbours {gain['neighbours']:+.3f}, "
              f"UMAP {gain['umap']:+.3f}")
    print(f"\ncurve at {largest:,} images, seed {seeds[0]} (UMAP's 5-NN: {knn5_at[largest]['umap']:.3f}):")
    print("| steps | seconds | 5-NN |\n| --- | --- | --- |")
    for steps, seconds, knn5 in sorted(points):
        print(f"| {steps:,} | {seconds:.0f} | {knn5:.3f} |")


if __name__ == "__main__":
    main()
