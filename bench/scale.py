"""The default budget on growing training sets: 5,000 to all 60,000 Fashion-MNIST training images, every size
scored on the same official 10,000 test images.

    python -m bench.scale [--data-root DIR] [--sizes 5000,15000,30000,60000] [--repeats 1] [--out runs/scale]

Each run is `python -m conae train --dataset fashion-mnist --train-subset N --no-download` in a process of its
own, so that its peak memory is its own; with --repeats R the sizes are run R times, interleaved (all sizes,
then all again), and the medians are printed. Without --data-root, Debian's dataset-fashion-mnist package is
used (linked into a temporary data root). Prints, per size: training seconds, seconds after training (codes,
k-NN, baselines, figures, files), whole-command wall seconds, peak memory, test BCE, 1-NN and 5-NN; then the
ratios of the largest size to the smallest. Writes scale.json and scale.png (quality and time against size).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from conae.environment import cpu_model
from conae.offline.files import link_debian_files

REPO = Path(__file__).resolve().parents[1]


def train(root, size, out):
    """One `conae train` run in its own process: (metrics, wall seconds, peak resident memory in MB)."""
    log = Path(out).with_suffix(".log")
    start = time.perf_counter()
    with open(log, "w") as output:
        process = subprocess.Popen([sys.executable, "-m", "conae", "train", "--dataset", "fashion-mnist",
                                    "--data-root", str(root), "--train-subset", str(size), "--no-download",
                                    "--out", str(out)], cwd=REPO, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)  # the child's own resource usage, peak memory included
    wall = time.perf_counter() - start
    if status:
        sys.exit(f"conae train on {size} images failed:\n{log.read_text()[-2000:]}")
    kilobytes = usage.ru_maxrss / (1024 if sys.platform == "darwin" else 1)  # macOS counts bytes, Linux KiB
    return json.loads((Path(out) / "metrics.json").read_text()), wall, kilobytes / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="a folder holding FashionMNIST/raw/ (default: Debian's package)")
    parser.add_argument("--sizes", default="5000,15000,30000,60000", help="training-set sizes, comma-separated")
    parser.add_argument("--repeats", type=int, default=1, help="runs per size, interleaved (medians printed)")
    parser.add_argument("--out", default="runs/scale", help="where scale.json and scale.png go")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as scratch:
        root = args.data_root or Path(scratch) / "data"
        if not args.data_root and link_debian_files("fashion-mnist", root) is None:
            sys.exit("no --data-root and Debian's dataset-fashion-mnist is not installed")
        runs = {size: [] for size in sizes}
        for repeat in range(args.repeats):
            for size in sizes:
                metrics, wall, peak = train(root, size, Path(scratch) / f"run-{size}-{repeat}")
                runs[size].append(dict(
                    train_seconds=metrics["train_seconds"], after_seconds=metrics["seconds_after_training"],
                    wall_seconds=wall, peak_mb=peak, test_bce=metrics["test_bce"],
                    knn1=metrics["knn_accuracy"]["1"], knn5=metrics["knn_accuracy"]["5"],
                    steps=metrics["steps"], epochs_done=metrics["epochs_done"], n_train=metrics["n_train"]))
                r = runs[size][-1]
                print(f"run {repeat + 1}/{args.repeats}, {size:6,d} images: training {r['train_seconds']:.1f} s, "
                      f"after {r['after_seconds']:.1f} s, wall {r['wall_seconds']:.1f} s, "
                      f"test BCE {r['test_bce']:.4f}, 5-NN {r['knn5']:.3f}", flush=True)
        environment = metrics["environment"]

    rows = [dict(size=size, **{key: statistics.median(r[key] for r in runs[size]) for key in runs[size][0]})
            for size in sizes]
    print(f"\nmachine: {cpu_model()}, {environment['threads']} threads, {environment['device']}; "
          f"torch {environment['packages']['torch']}; {args.repeats} run(s) per size, medians")
    print("| training images | epochs | training s | s after training | wall s | peak memory MB | test BCE | 1-NN "
          "| 5-NN |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['n_train']:,} | {r['epochs_done']:.2f} | {r['train_seconds']:.1f} | {r['after_seconds']:.1f} "
              f"({r['after_seconds'] / r['train_seconds']:.0%}) | {r['wall_seconds']:.1f} | {r['peak_mb']:,.0f} | "
              f"{r['test_bce']:.4f} | {r['knn1']:.3f} | {r['knn5']:.3f} |")
    small, large = rows[0], rows[-1]
    print(f"\n{large['n_train']:,} against {small['n_train']:,} images: training s {large['train_seconds'] / small['train_seconds']:.2f}x, "
          f"wall s {large['wall_seconds'] / small['wall_seconds']:.2f}x, test BCE {large['test_bce'] - small['test_bce']:+.4f}, "
          f"5-NN {large['knn5'] - small['knn5']:+.3f}")
    (out / "scale.json").write_text(json.dumps(dict(rows=rows, runs=runs, environment=environment), indent=2) + "\n")

    fig, (quality, time_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    n = [r["n_train"] for r in rows]
    quality.plot(n, [r["knn5"] for r in rows], "o-", label="5-NN accuracy")
    quality.plot(n, [r["knn1"] for r in rows], "s--", label="1-NN accuracy")
    quality.set_ylabel("test accuracy")
    bce_ax = quality.twinx()
    bce_ax.plot(n, [r["test_bce"] for r in rows], "^:", color="C3", label="test BCE (right)")
    bce_ax.set_ylabel("test BCE per pixel")
    lines = quality.get_legend_handles_labels(), bce_ax.get_legend_handles_labels()
    quality.legend(lines[0][0] + lines[1][0], lines[0][1] + lines[1][1], fontsize="small", loc="center right")
    quality.set_title("Quality (same budget of steps)")
    time_ax.plot(n, [r["train_seconds"] for r in rows], "o-", label="training")
    time_ax.plot(n, [r["after_seconds"] for r in rows], "s--", label="after training")
    time_ax.plot(n, [r["wall_seconds"] for r in rows], "^:", label="whole command")
    time_ax.set_ylabel("seconds")
    time_ax.set_ylim(bottom=0)
    time_ax.set_title("Time")
    time_ax.legend(fontsize="small")
    for ax in (quality, time_ax):
        ax.set_xlabel("training images (Fashion-MNIST)")
        ax.set_xticks(n, [f"{v // 1000}k" for v in n])
        ax.grid(alpha=0.3)
    fig.suptitle(f"The default budget ({rows[0]['steps']:,} steps) on growing training sets, tested on the official 10,000")
    fig.tight_layout()
    fig.savefig(out / "scale.png", dpi=100, bbox_inches="tight")
    print(f"wrote {out}/scale.json and {out}/scale.png")


if __name__ == "__main__":
    main()
