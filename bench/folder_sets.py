"""Characters of your own, measured: the letters and the Devanagari digits of conae.offline.characters (fonts this machine
has, written as ImageFolder folders; test/ holds only font designs that train/ never saw), each read through
`--dataset folder:PATH`, with `conae compare` (the `default` and `neighbours` presets beside UMAP's, t-SNE's and
PCA's 3 numbers) and raw pixels' 5-NN of the same prepared images.

    python -m bench.folder_sets [--out runs/character-sets] [--sets letters,devanagari] [--seeds 0]

Prints, per set, a Markdown table of test BCE, 1-NN and 5-NN (docs/results.md, "Characters of your own").
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

from conae.cli import main as conae
from conae.compare import comparison_table
from conae.config import make_config
from conae.data import flat, load_splits
from conae.evaluate import knn_predictions

REPO = Path(__file__).resolve().parents[1]


def raw_pixels(dataset):
    """1-NN and 5-NN of the 784 prepared (and, as the presets do, deskewed) pixels."""
    train, test = load_splits(make_config("default", dataset=dataset), verbose=False)
    votes = knn_predictions(flat(train.images), train.labels.numpy(), flat(test.images), ks=(1, 5))
    return {k: float((votes[k] == test.labels.numpy()).mean()) for k in (1, 5)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/character-sets", help="where the sets and the runs go")
    parser.add_argument("--sets", default="letters,devanagari")
    parser.add_argument("--seeds", default="0")
    args = parser.parse_args()
    for name in args.sets.split(","):
        folder, runs = Path(args.out) / name, Path(args.out) / f"{name}-compare"
        if not (folder / "train").is_dir():
            subprocess.run([sys.executable, "-m", "conae.offline.characters", name, str(folder)], check=True, cwd=REPO)
        dataset = f"folder:{folder}"
        assert conae(["compare", "--dataset", dataset, "--presets", "default,neighbours", "--seeds", args.seeds,
                      "--baselines", "umap,tsne,pca", "--out", str(runs)]) == 0
        comparison = json.loads((runs / "comparison.json").read_text())
        pixels = raw_pixels(dataset)
        print(f"\n{name}: train {comparison['n_train']:,} images, test {comparison['n_test']:,} (held-out fonts)\n")
        print(comparison_table(comparison))
        print(f"| raw pixels (784 numbers) | - | {pixels[1]:.3f} | {pixels[5]:.3f} | | |")


if __name__ == "__main__":
    main()
