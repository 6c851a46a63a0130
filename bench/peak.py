"""How far `default` training is from what this machine can do, and what each lever gives.

    python -m bench.peak [--precision fp32|bf16] [--steps 200] [--rounds 5] [--levers | --no-levers]

Prints, for this machine and precision:
- the peak GFLOP/s of a large matmul (2048 x 2048), and of each convolution of the model at its own shapes (batch
  64, forward, and forward with backward), the best of which is "the model's conv peak";
- the FLOPs of one training step of the model, counted by torch.utils.flop_counter (forward and backward of a
  batch of 64), per image;
- the images/s of `default` training (conae.train.train on the offline MNIST sample, medians of --rounds
  stretches of --steps steps) and the share of each peak it reaches;
- with --levers (the default), each lever's images/s against today's training, interleaved stretch by stretch in
  this process (medians): the memory layout (channels_last against plain NCHW), the optimizer's implementation
  (foreach, one loop per tensor, fused), torch's threads, bfloat16 autocast and torch.compile of the model (its
  compile seconds printed beside it, which a run's wall time would pay).
"""
import argparse
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from conae.config import make_config
from conae.data import load_data, to_float
from conae.device import autocast
from conae.environment import cpu_model
from conae.model import ConvAE
from conae.train import build, train

BATCH = 64


def gflops(flops, fn, repeats=20):
    """GFLOP/s of fn (flops a call), the median of repeats timed calls after a warm-up."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return flops / statistics.median(times) / 1e9


def matmul_peak(precision):
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    a, b = (torch.rand(2048, 2048).to(dtype) for _ in range(2))
    return gflops(2 * 2048 ** 3, lambda: a @ b)


def counted(fn):
    """FLOPs of one call of fn, counted by torch.utils.flop_counter."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def conv_table(precision):
    """[(layer, input shape, forward GFLOP/s, forward and backward GFLOP/s)] of each convolution of the model."""
    model, rows = ConvAE().to(memory_format=torch.channels_last), []
    x = torch.zeros(BATCH, 1, 28, 28)
    shapes = []
    with torch.no_grad():  # each layer's input shape, by running the model once
        h = x
        for layer in list(model.encoder) + list(model.decoder):
            if isinstance(layer, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                shapes.append((layer, tuple(h.shape)))
            h = layer(h)
    for layer, shape in shapes:
        inp = torch.rand(shape).contiguous(memory_format=torch.channels_last).requires_grad_(shape[1] > 1)

        def forward():
            with autocast(inp.device, precision):
                return layer(inp)

        def both():
            forward().float().sum().backward()
        with torch.no_grad():
            fwd = gflops(counted(forward), forward)
        rows.append((str(layer).split("(")[0] + f" {layer.in_channels}->{layer.out_channels}",
                     "x".join(map(str, shape[1:])), fwd, gflops(counted(both), both)))
    return rows


def training_runs(images, variants, steps, rounds):
    """{variant: median images/s}: each variant's Run trained in stretches of steps, interleaved round by round."""
    runs, rates = {}, {}
    for name, make in variants.items():
        start = time.perf_counter()
        runs[name] = make()
        train(runs[name], 20)  # warm-up (and, for torch.compile, its compilation)
        rates[name] = ([], time.perf_counter() - start)
    names = list(runs)
    for round_ in range(rounds):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:  # each round starts elsewhere
            run = runs[name]
            threads = torch.get_num_threads()
            if name.startswith("1 thread"):
                torch.set_num_threads(1)
            start = time.perf_counter()
            train(run, steps)
            rates[name][0].append(steps * BATCH / (time.perf_counter() - start))
            torch.set_num_threads(threads)
    return {name: (statistics.median(r), warm) for name, (r, warm) in rates.items()}


def lever_variants(images, precision):
    """Today's training and each lever, as functions that build a Run."""
    def run(**change):
        cfg = make_config("default", precision=precision)
        made = build(cfg, images, torch.device("cpu"), precision)
        made.scheduler = None  # a constant learning rate: only the speed is measured
        for value in change.values():
            value(made)
        return made

    def optimizer(**kwargs):
        def swap(made):
            made.optimizer = torch.optim.AdamW(made.model.parameters(), lr=made.cfg.lr,
                                               weight_decay=made.cfg.weight_decay, **kwargs)
        return swap

    def plain_layout(made):
        made.model = made.model.to(memory_format=torch.contiguous_format)
        made.images = made.images.contiguous()

    def compiled(made):
        made.model = torch.compile(made.model)

    other = {"fp32": "bf16", "bf16": "fp32"}[precision]

    def other_precision(made):
        made.precision = other

    return {"today (channels_last, foreach AdamW)": lambda: run(),
            "AdamW one loop per tensor (torch's CPU default)": lambda: run(o=optimizer(foreach=False)),
            "AdamW fused": lambda: run(o=optimizer(fused=True)),
            "1 thread instead of 2": lambda: run(),
            f"{other} instead of {precision}": lambda: run(p=other_precision),
            "torch.compile of the model": lambda: run(c=compiled),
            "plain NCHW layout": lambda: run(layout=plain_layout)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--steps", type=int, default=200, help="steps per timed stretch")
    parser.add_argument("--rounds", type=int, default=7, help="stretches of each, interleaved")
    parser.add_argument("--levers", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    train_split, _ = load_data("data", download=False, verbose=False)  # the offline sample where data/ lacks MNIST
    images = to_float(train_split.images)
    print(f"{cpu_model()}, {torch.get_num_threads()} threads, torch {torch.__version__}, {args.precision}, "
          f"batch {BATCH}")

    peak = matmul_peak(args.precision)
    print(f"\nmatmul 2048 x 2048: {peak:.0f} GFLOP/s\n")
    rows = conv_table(args.precision)
    print("| convolution | input (C x H x W) | forward GFLOP/s | forward and backward GFLOP/s |")
    print("| --- | --- | --- | --- |")
    for name, shape, fwd, both in rows:
        print(f"| {name} | {shape} | {fwd:.0f} | {both:.0f} |")
    conv_peak = max(max(fwd, both) for _, _, fwd, both in rows)

    model = ConvAE().to(memory_format=torch.channels_last)
    batch = images[:BATCH].contiguous(memory_format=torch.channels_last)

    def step():
        with autocast(batch.device, args.precision):
            out = model(batch)
        torch.nn.functional.binary_cross_entropy(out.float(), batch).backward()
    per_image = counted(step) / BATCH
    rate = training_runs(images, {"today": lambda: lever_variants(images, args.precision)[
        "today (channels_last, foreach AdamW)"]()}, args.steps, args.rounds)["today"][0]
    achieved = rate * per_image / 1e9
    print(f"\none training step, counted by torch.utils.flop_counter: {per_image / 1e6:.1f} MFLOP per image "
          f"(forward and backward)")
    print(f"default training: {rate:,.0f} images/s = {achieved:.0f} GFLOP/s: {achieved / peak:.0%} of the matmul "
          f"peak, {achieved / conv_peak:.0%} of the model's best convolution ({conv_peak:.0f} GFLOP/s)")
    if not args.levers:
        return
    rates = training_runs(images, lever_variants(images, args.precision), args.steps, args.rounds)
    today = rates["today (channels_last, foreach AdamW)"][0]
    print("\n| lever | images/s | against today | build and warm-up s |\n| --- | --- | --- | --- |")
    for name, (images_per_second, warm) in rates.items():
        print(f"| {name} | {images_per_second:,.0f} | {images_per_second / today:.2f}x | {warm:.1f} |")


if __name__ == "__main__":
    main()
