"""Recognise your own characters: an image of any size, grey or colour, dark ink on light paper or the reverse,
of one character or of several side by side (a number, a word: conae.segment), each prepared the way MNIST was
made (conae.prepare), encoded, and voted on by its k nearest training codes (conae.knn). Without a model of
your own, the one that ships inside the package (BUNDLED)."""
from dataclasses import dataclass

import numpy as np
import torch

from .bundled import ABOUT, BUNDLED, about_line  # noqa: F401 (recognise's default model)
from .checkpoint import CheckpointError, load_checkpoint, read_checkpoint, unpacked
from .inference import bce_per_image, decode, encode
from .knn import nearest, neighbour_index, vote
from .prepare import ImageError, deskewed, grey_levels, read_image
from .segment import characters, widest


@dataclass
class Reference:
    """What a vote needs: the model, the codes, labels and images of its training set, and the class names."""
    model: torch.nn.Module
    train_codes: np.ndarray   # [N, D]
    train_labels: np.ndarray  # [N]
    train_images: torch.Tensor  # uint8 [N, 28, 28]
    classes: tuple
    test_bce: float = None    # the model's mean test BCE, to read a single image's BCE against
    deskew: bool = False      # the model was trained on deskewed images: new images are deskewed too

    def __post_init__(self):
        self.index = neighbour_index(self.train_codes)
        self.widest = widest(self.train_images)  # ink alone that is wider is characters that touch


def reference_from_model(model, train_split, train_codes=None, test_bce=None, deskew=False):
    """A Reference for a model in memory (the notebook's), from its training split; deskew: its images were."""
    codes = encode(model, train_split.images) if train_codes is None else train_codes
    return Reference(model.eval(), codes, train_split.labels.numpy(), train_split.images, tuple(train_split.classes),
                     test_bce, deskew)


def load_reference(path):
    """A Reference from a model.pt written by `conae train` (which saves the training codes in it)."""
    ckpt = read_checkpoint(path)
    codes = ckpt.get("codes")
    if not codes:
        raise CheckpointError(f"{path} holds no training codes (it was written before conae saved them, or by "
                              f"another command): train a new one with python -m conae train")
    model, cfg, history, _ = load_checkpoint(path)
    model = model.to(memory_format=torch.channels_last)  # as in training, so codes match the saved ones bitwise
    return Reference(model, codes["train_codes"].numpy(), codes["train_labels"].numpy(), unpacked(codes["train_images"]),
                     tuple(codes["classes"]), history[-1]["test_bce"] if history else None, cfg.deskew)


def recognise(images, reference, k=5):
    """For each uint8 image [28, 28] as the model sees it (prepared, and deskewed where the model's images were;
    read does both): the class its k nearest training codes vote for (conae.knn.vote, as in the
    evaluation), the vote share, the runner-up, the reconstruction BCE, and what a figure of it needs (the image,
    its reconstruction, its nearest training images)."""
    images = torch.stack(list(images))
    codes = encode(reference.model, images)  # the very path evaluate takes, so an MNIST digit gets its vote
    reconstructions = decode(reference.model, codes)
    bces = bce_per_image(reconstructions, images.float() / 255)
    closest = nearest(reference.index, codes, k)
    votes = vote(reference.train_labels[closest], len(reference.classes))
    results = []
    for i, neighbours in enumerate(closest):
        winner, second = int(votes.winner[i]), int(votes.runner_up[i])
        results.append(dict(
            label=reference.classes[winner], **{"class": winner}, votes=float(votes.share[i]),
            runner_up=(dict(label=reference.classes[second], votes=float(votes.runner_up_share[i]))
                       if second >= 0 else None),
            bce=float(bces[i]), code=codes[i].tolist(), prepared=images[i], reconstruction=reconstructions[i],
            nearest=neighbours))
    return results


def read(image, reference, k=5, name="image"):
    """A PIL image of one character or several side by side -> its reading: "path" (name), "text" (the characters'
    labels left to right), "characters" (recognise()'s result for each, with its "box" in the image's pixels:
    x, y, width, height), "input" (the image's grey levels); an image of one character carries that character's
    fields too, as before there were several. Each character is prepared (conae.segment.characters, by
    conae.prepare's steps), deskewed where the model's images were, and voted on. ImageError for an image with no
    ink, with characters that touch, or with too many pieces of ink."""
    boxes, prepared = zip(*characters(image, name, reference.widest))
    prepared = torch.stack(prepared)
    if reference.deskew:  # as the model's training and test images were
        prepared = deskewed(prepared)
    found = recognise(prepared, reference, k)
    for result, box in zip(found, boxes):
        result["box"] = box
    labels = [result["label"] for result in found]
    reading = dict(path=name, text=("" if all(len(label) == 1 for label in labels) else " ").join(labels),
                   characters=found, input=grey_levels(image))
    if len(found) == 1:
        reading.update({key: value for key, value in found[0].items() if key != "box"})
    return reading


def read_files(paths, reference, k=5):
    """(readings, errors) for image files: read()'s dicts, "path" the file's, and an ImageError for each file that
    could not be read (not an image, no ink, characters that touch); the good files are read all the same."""
    readings, errors = [], []
    for path in paths:
        try:
            readings.append(read(read_image(path), reference, k, str(path)))
        except ImageError as e:
            errors.append(e)
    return readings, errors


def summary_line(reading, reference):
    """One line for a file read: a single character's vote, or the text with each character's vote share."""
    if len(reading["characters"]) > 1:
        shares = ", ".join(f"{c['label']} {c['votes']:.0%}" for c in reading["characters"])
        return f"{reading['path']}: {reading['text']} ({len(reading['characters'])} characters; votes {shares})"
    runner = (f"runner-up {reading['runner_up']['label']} ({reading['runner_up']['votes']:.0%})"
              if reading["runner_up"] else "no runner-up")
    usual = f" (the test set's mean: {reference.test_bce:.3f})" if reference.test_bce is not None else ""
    return (f"{reading.get('path', 'image')}: {reading['label']} ({reading['votes']:.0%} of the votes; {runner}), "
            f"reconstruction BCE {reading['bce']:.3f}{usual}")


RESULT_FIELDS = ("label", "class", "votes", "runner_up", "bce")


def as_json(reading):
    """The fields `recognise --json` prints for a file read: path, text and characters (each character's vote,
    its reconstruction BCE and box), and, for one character, that character's fields beside them."""
    fields = dict(path=reading["path"], text=reading["text"],
                  characters=[{**{key: c[key] for key in RESULT_FIELDS}, "box": c["box"]}
                              for c in reading["characters"]])
    if len(reading["characters"]) == 1:
        fields.update({key: reading[key] for key in RESULT_FIELDS})
    return fields
