"""Command line: python -m conae train [options]. See python -m conae train --help."""
import argparse
import os
import sys
from pathlib import Path

from .config import PRESETS, make_config
from .data import DataError, load_mnist, subset
from .report import collect_metrics, make_figures, save_run
from .train import fit


def positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
        return value
    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m conae", description=(
        "Convolutional autoencoder that squeezes MNIST digits into a 3-number code."))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser("train", help="train a model and write model.pt, metrics.json and figures",
                                description="Train a ConvAE, then write model.pt, metrics.json and every "
                                            "figure as a PNG into --out.")
    train.add_argument("--data-root", default="data", help="folder holding MNIST/raw/*-ubyte[.gz] (default: data)")
    train.add_argument("--out", default=None, help="output folder (default: runs/PRESET)")
    train.add_argument("--preset", choices=PRESETS, default="default",
                       help="default: conae's fast recipe; seed: the original notebook's recipe")
    train.add_argument("--epochs", type=positive(int), help="training epochs (preset's if not given)")
    train.add_argument("--batch-size", type=positive(int), help="batch size (preset's if not given)")
    train.add_argument("--lr", type=positive(float), help="(peak) learning rate (preset's if not given)")
    train.add_argument("--embedding-dim", type=positive(int), help="size of the code (default: 3)")
    train.add_argument("--seed", type=int, help="random seed (default: 0)")
    train.add_argument("--no-download", action="store_true", help="never try to download MNIST")
    train.add_argument("--no-fallback", action="store_true",
                       help="fail instead of using the offline 5k MNIST sample when a split is missing")
    return parser


def train_command(args):
    cfg = make_config(args.preset, data_root=args.data_root, epochs=args.epochs, batch_size=args.batch_size,
                      lr=args.lr, embedding_dim=args.embedding_dim, seed=args.seed,
                      download=False if args.no_download else None, fallback=False if args.no_fallback else None)
    out = Path(args.out or Path("runs") / args.preset)
    os.makedirs(out, exist_ok=True)  # fail now, not after training, if --out cannot be written
    if not os.access(out, os.W_OK):
        raise PermissionError(f"cannot write to output folder {out}")

    train_split, test_split = load_mnist(cfg.data_root, cfg.download, cfg.fallback)
    train_split = subset(train_split, cfg.train_subset, cfg.seed)
    model, history, snapshots = fit(cfg, train_split, test_split)
    metrics = collect_metrics(cfg, train_split, test_split, model, history)
    save_run(out, model, cfg, history, snapshots, metrics,
             make_figures(model, train_split, test_split, history, snapshots))
    knn = ", ".join(f"{k}-NN {acc:.3f}" for k, acc in metrics["knn_accuracy"].items())
    print(f"test BCE {metrics['test_bce']:.4f}, {knn}, {metrics['train_seconds']:.1f} s training "
          f"({metrics['images_per_second']:.0f} images/s); wrote {out}/")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        train_command(args)
    except (DataError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
