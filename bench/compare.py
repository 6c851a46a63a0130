"""conae's default recipe against the original notebook's pipeline, interleaved in one process.

    python -m bench.compare [--data-root ../shared/data] [--seed 0] [--quick]

Both train on the same images (MNIST train files under DATA_ROOT/MNIST/raw if there, else the 5,000-digit
offline sample) and are scored on the same test set (the official 10,000 when DATA_ROOT has them) after
every epoch: test BCE, and 1-NN and 5-NN accuracy of test codes against the codes of all training images.
Epochs of the two alternate, each run always advancing the one that is behind in its share of epochs, so
that the machine's speed changes hit both alike. Prints images/s (median over epochs), seconds of
training to reach the reference's final quality, final quality, the ratios conae/reference, and FLOPs.

The reference is the original notebook: torchvision.datasets.MNIST with Resize + ToTensor, a random
4,096-image subset, DataLoader(batch_size=16, shuffle=True), BCELoss + 0.0005 * sum(p.norm(2)), Adam
(lr 1e-3, weight_decay 1e-4), 100 epochs. Its data goes through torchvision's own MNIST class, from IDX
files written to a temporary folder (the data root is never written).
"""
import argparse
import copy
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from torch.utils.flop_counter import FlopCounterMode
from torchvision import datasets, transforms

from conae.config import make_config
from conae.data import load_data, to_float
from conae.device import pick_device
from conae.environment import cpu_model
from conae.evaluate import knn_accuracy, split_codes
from conae.model import ConvAE
from conae.offline.files import write_idx
from conae.train import build, steps_per_epoch, train


def reference_epochs(root, seed, epochs, subset_size):
    """The original notebook's training, one epoch per step: yields (model, seconds, images trained on)."""
    torch.manual_seed(seed)
    transform = transforms.Compose([transforms.Resize((28, 28)), transforms.ToTensor()])
    train_set = datasets.MNIST(root, train=True, download=False, transform=transform)
    indices = torch.randperm(len(train_set))[:subset_size].tolist()
    loader = DataLoader(Subset(train_set, indices), batch_size=16, shuffle=True)
    model = ConvAE(embedding_dim=3)
    criterion = nn.BCELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    for _ in range(epochs):
        model.train()
        start = time.perf_counter()
        for images, _ in loader:
            loss = criterion(model(images), images) + 0.0005 * sum(p.norm(2) for p in model.parameters())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        yield model, time.perf_counter() - start, len(indices)


def conae_epochs(cfg, train_split):
    """conae's training (the same build() and train() as fit()), one epoch per step, like reference_epochs."""
    run = build(cfg, to_float(train_split.images), pick_device(cfg.device))
    per_epoch = steps_per_epoch(len(run.images), cfg.batch_size)
    for _ in range(cfg.epochs):
        start = time.perf_counter()
        train(run, per_epoch)
        yield run.model, time.perf_counter() - start, len(run.images)


def write_torchvision_root(root, train_split, test_split):
    """train/t10k IDX files (uncompressed, as torchvision's MNIST class expects them) under root/MNIST/raw."""
    raw = Path(root) / "MNIST" / "raw"
    for prefix, split in (("train", train_split), ("t10k", test_split)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", split.images.numpy())
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", split.labels.numpy())


def flops_per_image(model, batch_size):
    """FLOPs of one training step (forward and backward) divided by the batch size."""
    x = torch.rand(batch_size, 1, 28, 28)
    with FlopCounterMode(display=False) as counter:
        nn.functional.binary_cross_entropy(model(x), x).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / batch_size


def score(model, train_split, test_split):
    # evaluated in the channels_last layout for speed; the layout does not change what is computed
    model = copy.deepcopy(model).to(memory_format=torch.channels_last)
    train_codes, test_codes, test_bce = split_codes(model, train_split, test_split)
    knn = knn_accuracy(train_codes, train_split.labels.numpy(), test_codes, test_split.labels.numpy())
    return test_bce, knn[1], knn[5]


def run(name, epochs, train_split, test_split, log):
    """Advances a run by one epoch, scores it, appends a record to log."""
    model, seconds, n = next(epochs)
    bce, knn1, knn5 = score(model, train_split, test_split)
    trained = (log[-1]["trained_s"] if log else 0.0) + seconds
    log.append(dict(epoch=len(log) + 1, seconds=seconds, trained_s=trained, images_per_s=n / seconds,
                    bce=bce, knn1=knn1, knn5=knn5))
    print(f"{name:9s} epoch {len(log):3d}  {n / seconds:6.0f} img/s  trained {trained:6.1f} s  "
          f"BCE {bce:.4f}  1-NN {knn1:.3f}  5-NN {knn5:.3f}", flush=True)


def seconds_to_reach(log, bce, knn5):
    """Training seconds until the first epoch with test BCE <= bce and 5-NN >= knn5 (None if never)."""
    return next((e["trained_s"] for e in log if e["bce"] <= bce and e["knn5"] >= knn5), None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="../shared/data", help="MNIST root (default: ../shared/data)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 reference and 3 conae epochs")
    args = parser.parse_args()

    train_split, test_split = load_data(args.data_root, download=False)
    ref_epochs = 3 if args.quick else 100
    cfg = make_config("default", seed=args.seed, epochs=3 if args.quick else 45)  # 45 epochs: the default's steps
    logs = {"reference": [], "conae": []}

    with tempfile.TemporaryDirectory() as root:
        write_torchvision_root(root, train_split, test_split)
        runs = {"reference": reference_epochs(root, args.seed, ref_epochs, subset_size=4096),
                "conae": conae_epochs(cfg, train_split)}
        totals = {"reference": ref_epochs, "conae": cfg.epochs}
        while any(len(logs[n]) < totals[n] for n in runs):
            name = min((n for n in runs if len(logs[n]) < totals[n]), key=lambda n: len(logs[n]) / totals[n])
            run(name, runs[name], train_split, test_split, logs[name])

    ref = logs["reference"]
    target_bce, target_knn5 = ref[-1]["bce"], ref[-1]["knn5"]
    flops = flops_per_image(ConvAE(), 64)
    rows = []
    for name, log in logs.items():
        rate = statistics.median(e["images_per_s"] for e in log[1:] or log)  # the first epoch warms up
        rows.append(dict(name=name, rate=rate, reach=seconds_to_reach(log, target_bce, target_knn5),
                         total=log[-1]["trained_s"], bce=log[-1]["bce"], knn1=log[-1]["knn1"],
                         knn5=log[-1]["knn5"], gflops=flops * rate / 1e9))

    print(f"\nmachine: {cpu_model()}, {torch.get_num_threads()} threads; torch {torch.__version__}; "
          f"train {train_split.source} ({len(train_split)}), test {test_split.source} ({len(test_split)})")
    print(f"reference's final quality: test BCE {target_bce:.4f}, 5-NN {target_knn5:.3f}; "
          f"training FLOPs per image (forward + backward): {flops / 1e6:.2f} MFLOP")
    print(f"{'':10s} {'images/s':>9s} {'GFLOP/s':>8s} {'s to ref. quality':>18s} {'trained s':>10s} "
          f"{'test BCE':>9s} {'1-NN':>6s} {'5-NN':>6s}")
    for r in rows:
        reach = f"{r['reach']:.1f}" if r["reach"] is not None else "never"
        print(f"{r['name']:10s} {r['rate']:9.0f} {r['gflops']:8.2f} {reach:>18s} {r['total']:10.1f} "
              f"{r['bce']:9.4f} {r['knn1']:6.3f} {r['knn5']:6.3f}")
    a, b = rows[1], rows[0]
    reach = f"{a['reach'] / b['reach']:.3f}" if a["reach"] and b["reach"] else "n/a"
    print(f"conae/reference: images/s {a['rate'] / b['rate']:.2f}x, time to the reference's quality {reach}, "
          f"test BCE {a['bce'] / b['bce']:.3f}, 5-NN {a['knn5'] / b['knn5']:.3f}")


if __name__ == "__main__":
    main()
