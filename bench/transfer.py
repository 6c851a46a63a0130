"""How a trained code carries beyond MNIST's test set: recognition of handwriting by other writers and pens, and
agreement of photographed copies with their clean versions, beside raw pixels, UMAP and t-SNE fitted on the same
training images (conae.offline.transfer; none of it trains a model or chooses a setting).

    python -m bench.transfer --model runs/neighbours/model.pt [--model ...] [--data-root DIR] [--photos 500]
                             [--baselines raw,umap,tsne]

For each model.pt (from `conae train` or `conae compare`, which keep the training codes, labels and images):
  - UCI digits: 5-NN accuracy on the 1,797 digits of 13 writers (scikit-learn's copy of the UCI test set);
  - font digits: 5-NN accuracy on the digits of Debian's handwriting fonts (where installed), two sizes, two pen
    weights;
  - photos: for the first --photos MNIST test digits under --data-root, the share of photographed copies (uneven
    light, noise, blur, JPEG) whose vote equals the clean digit's; and of the same photos stored turned, with an
    EXIF orientation tag.
Every image goes through conae's own preparation (conae.prepare), the one `conae recognise` uses, and is deskewed
where the models were trained on deskewed images. The baselines are fitted on the first model's training images
(raw pixels: 5-NN on the 784 prepared pixels), so every number of a table is of the same images.
"""
import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from conae.baselines import tsne_codes, umap_codes
from conae.data import Split, load_data
from conae.evaluate import knn_predictions
from conae.inference import encode
from conae.offline.transfer import font_digits, photographed, save_photo, uci_digits
from conae.prepare import deskewed, prepare, read_image
from conae.recognise import load_reference

REPO = Path(__file__).resolve().parents[1]


def prepared(images):
    return torch.stack([prepare(image) for image in images])


def transfer_sets(data_root, n_photos):
    """{name: (prepared uint8 images [N, 28, 28], labels or, for photos, the clean images to agree with)}."""
    uci, uci_labels = uci_digits()
    fonts, font_labels, _ = font_digits()
    sets = {"UCI digits": (prepared(uci), uci_labels)}
    if len(fonts):
        sets["font digits"] = (prepared(fonts), font_labels)
    clean = load_data(data_root, download=False)[1].images[:n_photos]  # the test split: the official one if there
    photos = [photographed(Image.fromarray(d.numpy()), seed=i) for i, d in enumerate(clean)]
    with tempfile.TemporaryDirectory() as folder:
        turned = [read_image(save_photo(p, Path(folder) / f"{i}.jpg", turned=True)) for i, p in enumerate(photos)]
    sets["photos"] = (prepared(photos), clean)
    sets["turned photos"] = (prepared(turned), clean)
    return sets


def score(codes_of, train_codes, train_labels, sets):
    """{set name: 5-NN accuracy, or for photos the share whose vote equals the clean digit's}."""
    def vote(images):
        return knn_predictions(train_codes, train_labels, codes_of(images), ks=(5,))[5]
    return {name: float((vote(images) == (vote(truth) if truth.ndim == 3 else truth)).mean())
            for name, (images, truth) in sets.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="a model.pt (repeat for several)")
    parser.add_argument("--data-root", default="data", help="holds MNIST/raw/t10k-* for the photographed digits")
    parser.add_argument("--photos", type=int, default=500)
    parser.add_argument("--baselines", default="raw,umap,tsne")
    args = parser.parse_args()
    sets = transfer_sets(args.data_root, args.photos)
    first = load_reference(args.model[0])
    if first.deskew:  # as the models' training images were (conae.prepare.deskewed)
        sets = {name: (deskewed(images), deskewed(truth) if truth.ndim == 3 else truth)
                for name, (images, truth) in sets.items()}
    sizes = {name: len(images) for name, (images, _) in sets.items()}
    rows, runs = {}, {}
    for path in args.model:
        reference = load_reference(path)
        if reference.deskew != first.deskew:
            parser.error("the models must all deskew their images, or none: a table compares codes of the same images")
        name = Path(path).parent.name  # compare's run folders: PRESET-seed-N
        runs[name] = score(lambda images: encode(reference.model, images), reference.train_codes,
                           reference.train_labels, sets)
    for preset in dict.fromkeys(name.split("-seed-")[0] for name in runs):
        mine = [row for name, row in runs.items() if name.split("-seed-")[0] == preset]
        label = f"conae `{preset}`" + (f", median of {len(mine)} seeds" if len(mine) > 1 else "")
        rows[label] = {s: float(np.median([row[s] for row in mine])) for s in sets}
    for name, row in runs.items():
        print(name, ", ".join(f"{s} {v:.3f}" for s, v in row.items()))
    train = Split(first.train_images, torch.as_tensor(first.train_labels), "the first model's training images")
    for name in [b for b in args.baselines.split(",") if b]:
        if name == "raw":
            rows["raw pixels (784 numbers)"] = score(lambda images: images.reshape(len(images), -1).numpy() / 255,
                                                     train.images.reshape(len(train), -1).numpy() / 255,
                                                     first.train_labels, sets)
            continue
        fit = {"umap": umap_codes, "tsne": tsne_codes}[name]
        everything = torch.cat([images if truth.ndim == 1 else torch.cat([images, truth]) for images, truth in sets.values()])
        (train_codes, codes), _ = fit(train, Split(everything, torch.zeros(len(everything), dtype=torch.int64), ""), 3)
        lookup = {}
        start = 0
        for images, truth in sets.values():
            for block in ([images] if truth.ndim == 1 else [images, truth]):
                lookup[block.data_ptr()] = codes[start:start + len(block)]
                start += len(block)
        rows[f"{name.upper() if name == 'umap' else 't-SNE'}, 3 numbers"] = score(
            lambda images: lookup[images.data_ptr()], train_codes, first.train_labels, sets)
    print("| code | " + " | ".join(f"{name} ({n:,})" for name, n in sizes.items()) + " |")
    print("| --- |" + " --- |" * len(sizes))
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{row[s]:.3f}" for s in sizes) + " |")


if __name__ == "__main__":
    main()
