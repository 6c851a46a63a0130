"""Whether training keeps its step rate: the `original` recipe's rate over its run, denormals flushed (conae's
default) and not, and whether this CPU pays for denormal floats at all.

    python -m bench.steady [--data-root DIR] [--repeats 1] [--micro-only]

1. A microbenchmark: a training step of the model (batch 16, as `original` trains) with its weights scaled down until
   its activations and gradients are denormal (below 1.2e-38), against the same step at normal scale, each with
   denormals flushed to zero and not; medians of interleaved stretches. A CPU that pays a microcode assist per
   denormal (Intel's) shows the denormal rows far slower unless flushed; one that does not (AMD's) shows them level.
2. `conae train --preset original` on the 5,000-digit sample (tested on the official test set under --data-root where
   it is there), one process at a time, with denormals flushed (as conae runs) and with flushing turned off before
   any torch work; each run's step rate at each of its recorded points (from metrics.json's history), the last
   interval's rate against the first's, and the training seconds.
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# a `conae train` with flushing set as asked, before torch starts its thread pool (whose threads inherit it)
LAUNCH = ("import sys, torch, conae.device; torch.set_flush_denormal(sys.argv[1] == 'on'); "
          "from conae.cli import main; sys.exit(main(sys.argv[2:]))")


def micro(rounds=7, steps=40):
    """{(scale, flush): median ms a step} of the model's training step at normal and denormal scale."""
    import torch
    import torch.nn.functional as F

    from conae.model import ConvAE
    torch.manual_seed(0)
    model = ConvAE().to(memory_format=torch.channels_last)
    normal = {name: p.detach().clone() for name, p in model.named_parameters()}
    x = torch.rand(16, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    times = {}
    for _ in range(rounds):
        for scale in (1.0, 1e-37):
            for flush in (False, True):
                torch.set_flush_denormal(flush)
                with torch.no_grad():
                    for name, p in model.named_parameters():
                        p.copy_(normal[name] * scale)
                start = time.perf_counter()
                for _ in range(steps):
                    model.zero_grad()
                    F.binary_cross_entropy(model(x), x).backward()
                times.setdefault((scale, flush), []).append((time.perf_counter() - start) / steps * 1e3)
    torch.set_flush_denormal(True)
    return {key: statistics.median(ms) for key, ms in times.items()}


def original_run(flush, data_root, out):
    """(step rates at each recorded interval, training seconds) of one `conae train --preset original`."""
    done = subprocess.run([sys.executable, "-c", LAUNCH, flush, "train", "--preset", "original", "--baselines", "none",
                           "--no-download", "--data-root", str(data_root), "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"conae train --preset original failed:\n{done.stderr[-2000:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    history, rates, step = metrics["epochs"], [], 0
    for point in history:
        rates.append((point["step"] - step) / (point["seconds"] - point.get("setup_seconds", 0.0)))
        step = point["step"]
    return rates, metrics["train_seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="data", help="a folder holding MNIST/raw/ (default: data)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each, alternating")
    parser.add_argument("--micro-only", action="store_true", help="only the microbenchmark")
    args = parser.parse_args()
    from conae.environment import cpu_model
    print(f"{cpu_model()}\n\n| weights | flushed | ms a step |\n| --- | --- | --- |")
    for (scale, flush), ms in micro().items():
        print(f"| {'normal' if scale == 1 else 'denormal (x 1e-37)'} | {'yes' if flush else 'no'} | {ms:.2f} |")
    if args.micro_only:
        return
    runs = {"on": [], "off": []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for flush in runs:
                runs[flush].append(original_run(flush, Path(args.data_root).resolve(),
                                                 Path(tmp) / f"{flush}-{repeat}"))
                print(f"flush {flush}, run {repeat + 1}: {runs[flush][-1][1]:.1f} s", flush=True)
    print("\n| denormals flushed | steps/s at each recorded interval | last / first | training s |")
    print("| --- | --- | --- | --- |")
    for flush, done in runs.items():
        for rates, seconds in done:
            print(f"| {'yes' if flush == 'on' else 'no'} | {', '.join(f'{r:.0f}' for r in rates)} | "
                  f"{rates[-1] / rates[0]:.2f} | {seconds:.1f} |")
    if args.repeats > 1:
        for flush, done in runs.items():
            print(f"flush {flush}: median training {statistics.median(s for _, s in done):.1f} s, median last/first "
                  f"{statistics.median(r[-1] / r[0] for r, _ in done):.2f}")


if __name__ == "__main__":
    main()
