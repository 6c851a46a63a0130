"""Recognise your own characters: an image of any size, grey or colour, dark ink on light paper or the reverse,
prepared the way MNIST was made (conae.prepare), encoded, and voted on by its k nearest training codes
(conae.knn)."""
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from .checkpoint import CheckpointError, load_checkpoint, read_checkpoint
from .inference import bce_per_image, decode, encode
from .knn import nearest, neighbour_index, vote
from .prepare import ImageError, deskewed, grey_levels, prepare, read_image


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
    return Reference(model, codes["train_codes"].numpy(), codes["train_labels"].numpy(), codes["train_images"],
                     tuple(codes["classes"]), history[-1]["test_bce"] if history else None, cfg.deskew)


def recognise(images, reference, k=5):
    """For each uint8 image [28, 28] as the model sees it (prepared, and deskewed where the model's images were;
    recognise_images does both): the class its k nearest training codes vote for (conae.knn.vote, as in the
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


def recognise_images(images, reference, k=5, names=None):
    """recognise() for PIL images of any kind, each prepared first; each result also carries "path" (its name)
    and "input" (its grey levels). ImageError for an image with no ink."""
    names = names or [f"image {i + 1}" for i in range(len(images))]
    return with_inputs(images, [prepare(image, name) for image, name in zip(images, names)], names, reference, k)


def with_inputs(images, prepared, names, reference, k):
    prepared = torch.stack(list(prepared))
    if reference.deskew:  # as the model's training and test images were
        prepared = deskewed(prepared)
    results = recognise(prepared, reference, k)
    for result, image, name in zip(results, images, names):
        result.update(path=name, input=grey_levels(image))
    return results


def recognise_files(paths, reference, k=5):
    """(results, errors) for image files: recognise_images' dicts, "path" the file's, and an ImageError for
    each file that could not be recognised (not an image, or no ink); the good files are recognised all the same."""
    good, errors = [], []
    for path in paths:
        try:
            image = read_image(path)
            good.append((str(path), image, prepare(image, str(path))))
        except ImageError as e:
            errors.append(e)
    if not good:
        return [], errors
    names, images, prepared = zip(*good)
    return with_inputs(images, prepared, names, reference, k), errors


def summary_line(result, reference):
    """One line for a recognised file."""
    runner = (f"runner-up {result['runner_up']['label']} ({result['runner_up']['votes']:.0%})"
              if result["runner_up"] else "no runner-up")
    usual = f" (the test set's mean: {reference.test_bce:.3f})" if reference.test_bce is not None else ""
    return (f"{result.get('path', 'image')}: {result['label']} ({result['votes']:.0%} of the votes; {runner}), "
            f"reconstruction BCE {result['bce']:.3f}{usual}")


def as_json(result):
    """The fields `recognise --json` prints for a result."""
    keys = ("path", "label", "class", "votes", "runner_up", "bce")
    return {key: result.get(key) for key in keys}


def plot_recognition(results, reference):
    """One row per result: the input, the prepared 28x28, its reconstruction and its nearest training images,
    titled with the vote."""
    k = max(len(r["nearest"]) for r in results)
    fig, axes = plt.subplots(len(results), 3 + k, figsize=(1.9 * (3 + k), 2.5 * len(results)), squeeze=False,
                             gridspec_kw=dict(width_ratios=[1.6, 1, 1] + [1] * k))
    for row, result in zip(axes, results):
        runner = f", runner-up {result['runner_up']['label']}" if result["runner_up"] else ""
        verdict = (f"{Path(result['path']).name}\nvoted {result['label']} ({result['votes']:.0%} of "
                   f"{len(result['nearest'])}{runner})")
        panels = [(result["input"], verdict, "gray"), (result["prepared"].numpy(), "prepared 28x28" + ", deskewed" * reference.deskew, "gray_r"),
                  (result["reconstruction"].numpy(), f"reconstruction\nBCE {result['bce']:.3f}", "gray_r")]
        panels += [(reference.train_images[j].numpy(), f"neighbour {n + 1}: "
                    f"{reference.classes[reference.train_labels[j]]}", "gray_r") for n, j in enumerate(result["nearest"])]
        for ax in row:
            ax.axis("off")
        for ax, (image, title, cmap) in zip(row, panels):
            ax.imshow(image, cmap=cmap, vmin=0, vmax=255 if image.max() > 1 else 1)
            ax.set_title(title, fontsize=9)
    fig.suptitle("Recognising characters drawn elsewhere: prepared as MNIST was, then voted on by the nearest "
                 "training codes")
    fig.tight_layout()
    return fig
