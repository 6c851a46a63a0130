"""How far the notebook's headline numbers move when only floating point changes, against how far they move
between seeds: the evidence behind the reproduce test's tolerances (tests/test_reproduce.py).

    python -m bench.float_spread [--data-root data] [--seeds 0,1,2] [--out runs/float_spread]

Trains the notebook's `default` model (`conae train` with the notebook's data: the offline sample when the
MNIST files are not under --data-root) once per setting below, one process after another, and prints each run's
test BCE, 1-NN and 5-NN with its largest distance from the reference run (seed 0, this CPU as it is).
Another CPU is imitated on this one by what decides the floats there:
  - the instruction set torch and oneDNN dispatch to (ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA): a CPU without
    AVX-512 runs the AVX2 kernels;
  - the thread count, which changes the order of the sums;
  - the precision `--precision auto` picks: bfloat16 on a CPU with AMX, float32 elsewhere (the run in the precision
    this CPU does not pick stands for the other kind).
Same data, same seed, same code: only the rounding differs. The seed rows show what a real change of the run
does. About 2 minutes a run.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from conae.device import resolve_precision

REPO = Path(__file__).resolve().parents[1]

OTHER = {"bf16": "fp32", "fp32": "bf16"}[resolve_precision("auto", torch.device("cpu"))]
FLOAT_SETTINGS = {  # name: (environment variables, flags), imitating another CPU's rounding on this one
    "this CPU, its own kernels": ({}, ()),
    # a CPU without AVX-512 has no AMX either, so `auto` trains it in float32
    "AVX2 kernels (a CPU without AVX-512)": ({"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
                                             ("--precision", "fp32")),
    "1 thread instead of 2": ({"OMP_NUM_THREADS": "1"}, ()),
    f"{OTHER} (a CPU {'without' if OTHER == 'fp32' else 'with'} AMX)": ({}, ("--precision", OTHER)),
}
NUMBERS = ("test BCE", "1-NN", "5-NN")


def train(out, seed, env, data_root, flags=()):
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "conae", "train", "--no-download", "--baselines", "none", "--seed",
                    str(seed), "--data-root", data_root, "--out", str(out), *flags], cwd=REPO, check=True,
                   env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    metrics = json.loads((out / "metrics.json").read_text())
    return dict(zip(NUMBERS, (metrics["test_bce"], metrics["knn_accuracy"]["1"], metrics["knn_accuracy"]["5"])),
                kernels=metrics["environment"]["cpu_capability"], threads=metrics["environment"]["threads"],
                precision=metrics["precision"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="data", help="as the notebook's data_root (default: data)")
    parser.add_argument("--seeds", default="0,1,2", help="seeds for the seed rows (the first is the reference)")
    parser.add_argument("--out", default=None, help="where the runs go (default: a temporary folder)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out or tempfile.mkdtemp(prefix="float_spread-"))
    runs = {}
    for name, (env, flags) in FLOAT_SETTINGS.items():
        runs[f"seed {seeds[0]}, {name}"] = train(out / f"float-{len(runs)}", seeds[0], env, args.data_root, flags)
    for seed in seeds[1:]:
        runs[f"seed {seed}, this CPU"] = train(out / f"seed-{seed}", seed, {}, args.data_root)
    reference = next(iter(runs.values()))
    print("| run | kernels, threads, precision | " + " | ".join(NUMBERS) + " | move from the first row |")
    print("| --- | --- | " + " | ".join("---" for _ in NUMBERS) + " | --- |")
    for name, r in runs.items():
        moves = ", ".join(f"{n} {r[n] - reference[n]:+.4f}" for n in NUMBERS)
        print(f"| {name} | {r['kernels']}, {r['threads']}, {r['precision']} | " + " | ".join(f"{r[n]:.4f}" for n in NUMBERS)
              + f" | {moves} |")
    for group, names in (("float settings", [n for n in runs if not n.endswith("this CPU")]),
                         ("seeds", [n for n in runs if n.endswith("this CPU") or n == next(iter(runs))])):
        spread = {n: max(runs[r][n] for r in names) - min(runs[r][n] for r in names) for n in NUMBERS}
        print(f"spread over {group}: " + ", ".join(f"{n} {v:.4f}" for n, v in spread.items()))


if __name__ == "__main__":
    main()
