"""Numbers in one picture: how often `conae recognise` reads a whole number right, beside how often it reads the
same digits right one at a time. Digits no model here was trained or tuned on, written side by side as numbers of
2 to 6 digits (conae.offline.transfer.written_number): the official MNIST test digits clean, photographed (a page lit
unevenly, noise, blur, JPEG: conae.offline.transfer.photographed) and redrawn as pad strokes (each digit's skeleton traced
with the pad's round pen, conae.pad.rendered), and the UCI digits of 13 other writers. Each number is read by
conae.recognise.read (found, split, prepared, voted on); a number is right when its text is, a digit when it is
read in its place in a number split into the right count (a wrong count or a refusal makes all its digits wrong).

    python -m bench.written_numbers [--model model.pt] [--numbers 100] [--data-root ../shared/data]

Prints a markdown table (docs/results.md#numbers-in-one-picture).
"""
import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from conae.data import read_idx
from conae.offline.transfer import photographed, uci_digits, written_number
from conae.pad import rendered
from conae.prepare import ImageError
from conae.recognise import BUNDLED, load_reference, read

LENGTHS = range(2, 7)
PEN = 9  # the pad's pen, in pixels of a digit 3 x 28 high (as 16 is on the pad's 160-pixel digits)


def as_strokes(digit, scale=3):
    """A 28x28 digit redrawn as the pad would draw it: its skeleton (scikit-image) traced with a round pen."""
    from skimage.morphology import skeletonize
    big = np.asarray(Image.fromarray(digit).resize((28 * scale, 28 * scale), Image.Resampling.BILINEAR)) > 96
    rows, cols = np.nonzero(skeletonize(big))
    return [(PEN, [(float(x), float(y))]) for y, x in zip(rows, cols)]  # a dot of the pen at each skeleton pixel


def pad_digit(digit):
    return Image.fromarray(255 - np.asarray(rendered(as_strokes(digit), (84, 84))))  # white on black, as MNIST's


def renditions(name):
    """(how a number's picture is made from its digits, how one digit alone is shown) for each rendition."""
    if name == "photographed":
        return (lambda digits, seed: photographed(written_number(digits, seed=seed), seed=seed, size=(960, 720)),
                lambda digit, seed: photographed(written_number([digit], seed=seed), seed=seed, size=(960, 720)))
    if name == "pad strokes":
        return (lambda digits, seed: written_number([np.asarray(pad_digit(d)) for d in digits], seed=seed, scale=1),
                lambda digit, seed: pad_digit(digit))
    scale = 10 if name == "UCI writers" else 3  # the UCI scans are 8x8
    return (lambda digits, seed: written_number(digits, seed=seed, scale=scale),
            lambda digit, seed: Image.fromarray(np.asarray(digit, np.uint8)))


def text_of(image, reference):
    try:
        return read(image, reference)["text"]
    except ImageError:
        return None  # refused: characters that touch, too many pieces


def measure(name, images, labels, reference, numbers, rng):
    make_number, make_digit = renditions(name)
    exact = digits_right = digits = refused = 0
    alone_right = 0
    for length in LENGTHS:
        for n in range(numbers):
            chosen = rng.choice(len(images), length, replace=False)
            truth = "".join(str(labels[i]) for i in chosen)
            seed = length * 10_000 + n
            text = text_of(make_number([images[i] for i in chosen], seed), reference)
            refused += text is None
            exact += text == truth
            if text is not None and len(text) == length:
                digits_right += sum(a == b for a, b in zip(text, truth))
            digits += length
            alone_right += sum(text_of(make_digit(images[i], seed + k), reference) == str(labels[i])
                               for k, i in enumerate(chosen))
    total = numbers * len(LENGTHS)
    return dict(numbers=total, exact=exact / total, digits=digits_right / digits, alone=alone_right / digits,
                refused=refused / total)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(BUNDLED), help="model.pt (default: the one that ships with conae)")
    parser.add_argument("--numbers", type=int, default=100, help="numbers of each length, 2 to 6 (default: 100)")
    parser.add_argument("--data-root", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    args = parser.parse_args(argv)
    reference = load_reference(args.model)
    raw = Path(args.data_root) / "MNIST" / "raw"
    mnist = read_idx(raw / "t10k-images-idx3-ubyte.gz"), read_idx(raw / "t10k-labels-idx1-ubyte.gz")
    uci_images, uci_labels = uci_digits()
    uci = [np.asarray(i) for i in uci_images], uci_labels
    print(f"{args.numbers} numbers of each length 2-6 per row, digits drawn at random (seed 0); model {Path(args.model).name}")
    print("| digits | written as | numbers read exactly | digits read right | the same digits alone | refused |")
    print("| --- | --- | --- | --- | --- | --- |")
    for source, (images, labels), name in [("MNIST test set", mnist, "clean"), ("MNIST test set", mnist, "photographed"),
                                           ("MNIST test set", mnist, "pad strokes"), ("UCI writers", uci, "UCI writers")]:
        start = time.perf_counter()
        r = measure(name, images, labels, reference, args.numbers, np.random.default_rng(0))
        shown = "clean" if name == "UCI writers" else name
        print(f"| {source} | {shown} | {r['exact']:.3f} | {r['digits']:.3f} | {r['alone']:.3f} | {r['refused']:.3f} |"
              f"  <!-- {time.perf_counter() - start:.0f} s -->", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
