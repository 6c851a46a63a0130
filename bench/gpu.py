"""conae on a CUDA GPU: what a user runs, how fast, how much of the wait is training, and the numbers beside the
CPU's.

    python -m bench.gpu [--data-root ../shared/data] [--out runs/gpu] [--dry-run]

1. `conae train` with `default` and with `neighbours` (device auto: the GPU; precision auto: bfloat16 autocast
   there), each in a process of its own, on the images of outputs/comparison.json (the 5,000 offline MNIST
   training digits and, where --data-root has it, the official test set): images/s, wall / training seconds
   (the ratio bench/overhead.py prints on the CPU), test BCE and 5-NN beside that file's seed-0 CPU runs.
2. The notebook, headless (papermill, its own parameters, its outputs under --out): wall / training seconds, and
   its test BCE and 5-NN beside the committed CPU run's (outputs/metrics.json).
3. bench/precision.py on the GPU: float32 against bfloat16 autocast, interleaved; whether `auto` is right there.

Prints one Markdown table (also written to OUT/gpu.md) with the GPU's name. Needs a CUDA GPU; --dry-run checks the
script on any device in about a minute (20-step runs, the notebook at 20 steps with PCA only, a short precision
run), its numbers meaningless. Never part of the tests or CI.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from bench.overhead import notebook_run, row, train_run

REPO = Path(__file__).resolve().parents[1]

DRY_RUN_STEPS = 20


def cpu_runs():
    """{preset: seed 0's run} of outputs/comparison.json: the CPU's numbers on the same images."""
    runs = json.loads((REPO / "outputs" / "comparison.json").read_text())["runs"]
    return {r["preset"]: r for r in runs if r["seed"] == 0}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="../shared/data", help="a folder holding MNIST/raw/")
    parser.add_argument("--out", default="runs/gpu", help="where the runs go")
    parser.add_argument("--dry-run", action="store_true", help="tiny budgets on any device: checks the script only")
    args = parser.parse_args()
    if not torch.cuda.is_available() and not args.dry_run:
        sys.exit("no CUDA GPU here: run bench/gpu.py where there is one (--dry-run checks the script on any device)")
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ["CONAE_CACHE"] = tempfile.mkdtemp()  # nothing cached: as on a new machine
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    steps = ["--steps", str(DRY_RUN_STEPS)] if args.dry_run else []

    cpu = cpu_runs()
    lines = [f"GPU: {device}; torch {torch.__version__}, CUDA {torch.version.cuda}"
             + (" (dry run: its numbers mean nothing)" if args.dry_run else ""),
             "", row(["run", "precision", "images/s", "wall s", "training s", "wall / training", "test BCE (CPU)",
                      "5-NN (CPU)"]), row(["---"] * 8)]
    for preset in ("default", "neighbours"):
        metrics, wall = train_run(f"{preset}-5000", Path(args.data_root).resolve(), None, out, extra=steps)
        lines.append(row([f"`conae train --preset {preset}`", metrics["precision"],
                          f"{metrics['images_per_second']:,.0f}", f"{wall:.1f}", f"{metrics['train_seconds']:.1f}",
                          f"**{wall / metrics['train_seconds']:.2f}x**",
                          f"{metrics['test_bce']:.4f} ({cpu[preset]['test_bce']:.4f})",
                          f"{metrics['knn_accuracy']['5']:.3f} ({cpu[preset]['knn_accuracy']['5']:.3f})"]))
        print(lines[-1], flush=True)

    notebook_parameters = (dict(steps=DRY_RUN_STEPS, neighbours_steps=DRY_RUN_STEPS, baselines="pca")
                           if args.dry_run else {})
    _, training, wall = notebook_run(out, **notebook_parameters)
    committed = json.loads((REPO / "outputs" / "metrics.json").read_text())
    metrics = json.loads((out / "notebook" / "metrics.json").read_text())
    lines.append(row(["the notebook, headless", metrics["precision"], f"{metrics['images_per_second']:,.0f}",
                      f"{wall:.1f}", f"{training:.1f}", f"**{wall / training:.2f}x**",
                      f"{metrics['test_bce']:.4f} ({committed['test_bce']:.4f})",
                      f"{metrics['knn_accuracy']['5']:.3f} ({committed['knn_accuracy']['5']:.3f})"]))
    print(lines[-1], flush=True)

    start = time.perf_counter()
    precision = subprocess.run([sys.executable, "-m", "bench.precision", "--device",
                                "cuda" if torch.cuda.is_available() else "cpu",
                                *(["--steps", "5", "--rounds", "1"] if args.dry_run else [])],
                               cwd=REPO, capture_output=True, text=True, check=True)
    lines += ["", f"bench/precision.py ({time.perf_counter() - start:.0f} s):", "", *precision.stdout.splitlines()]
    print("\n".join(lines))
    (out / "gpu.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
