"""What running a grid's runs side by side buys on this machine: a grid of 4 short runs (2 presets x 2 seeds),
one after another with every core each (--jobs 1, --threads-per-run = cores), against N at once with cores / N
threads each (--jobs N), interleaved, the median of --repeats of each. Prints each wall time and the ratio.

    python -m bench.grid [--data-root DIR] [--steps 600] [--repeats 3] [--jobs 2]

Small convolutions keep few cores busy: one run with 2 threads leaves much of its second core idle, so two runs
of 1 thread each finish the grid sooner. The worker processes are started once, before the first timing (loky
keeps them), as they would be in a long grid.
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

from conae.compare import compare
from conae.config import make_config
from conae.data import load_splits
from conae.device import usable_cores
from conae.grid import plan

REPO = Path(__file__).resolve().parents[1]


def timed_grid(configs, splits, jobs, threads):
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        compare(configs, (0, 1), *splits, out, baselines=(), verbose=False, plan=plan(jobs, threads))
        return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="data")
    parser.add_argument("--steps", type=int, default=600, help="steps of each run (default: 600)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    cores = usable_cores()
    configs = {name: make_config(name, steps=args.steps, data_root=args.data_root, download=False, deskew=False)
               for name in ("default", "original")}  # one kind of images for both (see conae.compare)
    splits = load_splits(configs["default"])
    ways = {f"one after another, {cores} threads each": (1, cores),
            f"{args.jobs} at once, {max(1, cores // args.jobs)} thread(s) each": (args.jobs, max(1, cores // args.jobs))}
    timed_grid(configs, splits, args.jobs, max(1, cores // args.jobs))  # starts the workers
    seconds = {way: [] for way in ways}
    for _ in range(args.repeats):
        for way, (jobs, threads) in ways.items():  # interleaved: drift in the machine's speed hits both alike
            seconds[way].append(timed_grid(configs, splits, jobs, threads))
            print(f"{way}: {seconds[way][-1]:.1f} s", flush=True)
    serial, parallel = (statistics.median(s) for s in seconds.values())
    print(f"\n4 runs of {args.steps} steps on {cores} cores, median of {args.repeats}:")
    print("| grid | wall s |\n| --- | --- |")
    for way, s in seconds.items():
        print(f"| {way} | {statistics.median(s):.1f} |")
    print(f"parallel / serial wall time: {parallel / serial:.2f}")


if __name__ == "__main__":
    main()
