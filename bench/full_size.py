"""The `neighbours` preset beyond MNIST and at full size: Fashion-MNIST on a random 5,000 of its training images
and on all 60,000, beside `default` and UMAP's 3 numbers fitted on the same images, every number on the official
10,000 test images.

    python bench/full_size.py [--data-root DIR] [--seed 0] [--sizes 5000,60000]

Without --data-root, Debian's dataset-fashion-mnist package is used (linked into a temporary data root). Every run
trains in this process, one after another, on the images as the presets see them (deskewed); UMAP is handed each
image's exact nearest neighbours (conae.baselines) and fitted on all the training images of the size, not a
subset. Prints per size: test BCE, 1-NN, 5-NN and training seconds of `default` (5,000 only) and `neighbours`,
UMAP's 1-NN and 5-NN and seconds, and the ratios the "characters from anywhere" targets ask for.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from conae.baselines import run_baseline  # noqa: E402
from conae.config import make_config  # noqa: E402
from conae.data import load_splits  # noqa: E402
from conae.evaluate import knn_accuracy, split_codes  # noqa: E402
from conae.train import fit  # noqa: E402
from offline_data import link_debian_files  # noqa: E402


def trained(preset, root, size, seed):
    """(test BCE, {1: 1-NN, 5: 5-NN}, training seconds) of one run."""
    cfg = make_config(preset, dataset="fashion-mnist", data_root=str(root), download=False, train_subset=size,
                      seed=seed)
    train, test = load_splits(cfg, verbose=False)
    model, history, _ = fit(cfg, train, test, verbose=False)
    train_codes, test_codes, test_bce = split_codes(model, train, test)
    knn = knn_accuracy(train_codes, train.labels.numpy(), test_codes, test.labels.numpy())
    return test_bce, knn, sum(h["seconds"] for h in history)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="a folder holding FashionMNIST/raw/ (default: Debian's package)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sizes", default="5000,60000", help="training-set sizes, comma-separated (60000: all)")
    args = parser.parse_args()
    root = args.data_root or tempfile.mkdtemp()
    if not args.data_root and not link_debian_files("fashion-mnist", root):
        sys.exit("no --data-root and no Debian dataset-fashion-mnist package")
    rows, seconds = [], {}
    for size in (int(s) for s in args.sizes.split(",")):
        presets = ("default", "neighbours") if size < 60000 else ("neighbours",)
        for preset in presets:
            bce, knn, secs = trained(preset, root, 0 if size >= 60000 else size, args.seed)
            seconds[preset, size] = secs
            rows.append(f"| {size:,} | `{preset}` | {bce:.4f} | {knn[1]:.3f} | {knn[5]:.3f} | {secs:.0f} |")
            print(rows[-1], flush=True)
        cfg = make_config("default", dataset="fashion-mnist", data_root=str(root), download=False,
                          train_subset=0 if size >= 60000 else size)
        train, test = load_splits(cfg, verbose=False)
        start = time.perf_counter()
        umap = run_baseline("umap", train, test, 3, max_fit=len(train))
        rows.append(f"| {size:,} | UMAP, 3 numbers | - | {umap['knn_accuracy']['1']:.3f} | "
                    f"{umap['knn_accuracy']['5']:.3f} | {time.perf_counter() - start:.0f} |")
        print(rows[-1], flush=True)
    print("\n| training images | code | test BCE | 1-NN | 5-NN | seconds |\n| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    sizes = sorted({size for _, size in seconds})
    if ("neighbours", sizes[0]) in seconds and len(sizes) > 1:
        print(f"\nneighbours' training seconds, {sizes[-1]:,} against {sizes[0]:,} images: "
              f"{seconds['neighbours', sizes[-1]] / seconds['neighbours', sizes[0]]:.2f}x")


if __name__ == "__main__":
    main()
