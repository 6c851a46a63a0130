"""Training throughput in float32 against bfloat16 autocast on the device at hand, interleaved.

    python -m bench.precision [--steps 150] [--rounds 5] [--batch-size 64] [--device auto]

Runs the default recipe's training steps (conae.train.train, the same code as `conae train`) on random images,
alternating fp32 and bf16 stretches of --steps steps for --rounds rounds, and prints the median images/s of
each, their ratio, and which one `--precision auto` picks here (bfloat16 only on a CPU with AMX or a CUDA GPU).
"""
import argparse
import statistics
import time

import torch

from conae.config import make_config
from conae.device import has_fast_bf16, pick_device, resolve_precision
from conae.environment import cpu_model
from conae.train import build, train


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150, help="steps per timed stretch")
    parser.add_argument("--rounds", type=int, default=5, help="stretches of each precision, interleaved")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = pick_device(args.device)
    images = torch.rand(5000, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    runs, rates = {}, {"fp32": [], "bf16": []}
    for precision in rates:
        cfg = make_config("default", batch_size=args.batch_size, precision=precision, device=str(device))
        runs[precision] = build(cfg, images, device, precision)
        runs[precision].scheduler = None  # a constant learning rate: only the speed is measured
        train(runs[precision], 20)  # warm-up
    for _ in range(args.rounds):
        for precision, run in runs.items():
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            train(run, args.steps)
            if device.type == "cuda":
                torch.cuda.synchronize()
            rates[precision].append(args.steps * args.batch_size / (time.perf_counter() - start))
    fp32, bf16 = (statistics.median(rates[p]) for p in ("fp32", "bf16"))
    print(f"device {device} ({cpu_model() if device.type == 'cpu' else torch.cuda.get_device_name(device)}), "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}, batch {args.batch_size}")
    print(f"fp32: {fp32:,.0f} images/s; bf16 autocast: {bf16:,.0f} images/s; bf16/fp32 {bf16 / fp32:.2f}x "
          f"(median of {args.rounds} interleaved stretches of {args.steps} steps)")
    print(f"fast bfloat16 here: {has_fast_bf16(device)}; --precision auto picks {resolve_precision('auto', device)}")


if __name__ == "__main__":
    main()
