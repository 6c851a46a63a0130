"""Your own characters: a folder of images in torchvision's ImageFolder layout as a character set
(`--dataset folder:PATH`; `dataset = "folder:PATH"` in the notebook).

PATH holds one folder per class, any image files inside; the class names are the folders' names, sorted, as
ImageFolder has them (its own walk, torchvision.datasets.folder, finds them). PATH/train/ and PATH/test/, each
holding the class folders, give the two splits; without them a fixed stratified split holds out a sixth of each
class for test: the images whose file names hash lowest, so the same for every seed and every run.

Every file is read and prepared as `conae recognise` reads one (conae.prepare: upright, paper and shadows taken
out, 28x28 by MNIST's rules; deskewed afterwards where the preset deskews, as every data set is). A file that
cannot be (not an image, unreadable, truncated, no ink) is skipped with one line, and the rest still train. The
prepared images are kept in conae.cache under a key of the files' names and contents, so a second run reads them
back, and a changed file is prepared again.
"""
import hashlib
from pathlib import Path

import numpy as np
import torch

from . import prepare
from .cache import cached, versions
from .datasets import FOLDER_PREFIX, DataError, Split, dataset_title, folder_of
from .environment import code_of
from .progress import progress_bar

HELD_OUT = 6  # without train/ and test/: one image in six of each class is held out for test


def check_folder(dataset):
    """DataError, before any work, for a folder data set whose folder does not exist."""
    path = folder_of(dataset)
    if not str(dataset[len(FOLDER_PREFIX):]) or not path.is_dir():
        raise DataError(f"dataset {dataset!r}: {path} is not a folder: give folder:PATH, where PATH holds one "
                        "folder of images per class (or train/ and test/, each holding them)")


def walk(root, at_least):
    """(class names, [(file, label)]) of a folder of class folders, by torchvision's ImageFolder walk; every file
    but hidden ones is taken, so that what is not an image is said, not silently passed over."""
    from torchvision.datasets.folder import find_classes, make_dataset  # imported here: slow, and only this path

    try:
        classes, class_to_index = find_classes(root)
    except FileNotFoundError:
        classes, class_to_index = [], {}
    if len(classes) < at_least:
        raise DataError(f"{root} holds {len(classes)} class folder{'s' * (len(classes) != 1)}: a character set needs "
                        f"{at_least} at least, one folder of images per class (PATH/CLASS/IMAGE)")
    files = make_dataset(root, class_to_index, is_valid_file=lambda p: not Path(p).name.startswith("."),
                         allow_empty=True)
    return classes, files


def prepared(files, root, shown_as, verbose):
    """(images uint8 [N, 28, 28], labels [N], each usable file's index in files, a line per skipped file) of files
    [(path, label)] under root, from the cache where an earlier run prepared the same files; a file is named
    shown_as/PATH-UNDER-ROOT in what is said of it."""
    names = [str(Path(path).relative_to(root)) for path, _ in files]
    contents = [hashlib.sha256(Path(path).read_bytes()).hexdigest() for path, _ in files]
    parts = (names, contents, [label for _, label in files], code_of(prepare.__file__), code_of(__file__),
             versions("numpy", "scipy", "pillow"))

    def prepare_all():
        images, kept, skipped = [], [], []
        with progress_bar(total=len(files), desc=f"preparing {shown_as}", unit="image", disable=not verbose,
                          leave=False) as bar:
            for i, (path, _) in enumerate(files):
                bar.update()
                try:
                    images.append(prepare.prepare(prepare.read_image(path), f"{shown_as}/{names[i]}").numpy())
                    kept.append(i)
                except prepare.ImageError as e:
                    skipped.append(str(e).replace(str(path), f"{shown_as}/{names[i]}"))
        return dict(images=np.stack(images) if images else np.zeros((0, 28, 28), np.uint8),
                    kept=np.array(kept, np.int64), skipped=np.array(skipped, dtype=str))

    stored, _ = cached("folder", parts, prepare_all)
    labels = np.array([label for _, label in files], np.int64)[stored["kept"]]
    return stored["images"], labels, stored["kept"], [str(line) for line in stored["skipped"]]


def held_out(files, kept, labels):
    """A mask over the usable images: the sixth of each class whose file names hash lowest (at least one of a class
    of two or more), the fixed test split of a folder without train/ and test/."""
    order = [hashlib.sha256(Path(files[i][0]).name.encode()).hexdigest() for i in kept]
    mask = np.zeros(len(kept), bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n = max(1, round(len(members) / HELD_OUT)) if len(members) >= 2 else 0
        mask[sorted(members, key=lambda j: order[j])[:n]] = True
    return mask


def load_folder(dataset, verbose=True):
    """(train, test) Splits of a folder data set (see the module's docstring); DataError, naming what to mend, for a
    folder that does not exist, fewer than two classes, a class folder with no usable image, or a test class that
    training lacks."""
    check_folder(dataset)
    root, name = folder_of(dataset), dataset_title(dataset)
    splits = [(root / "train").is_dir(), (root / "test").is_dir()]
    if any(splits) and not all(splits):
        have, lack = ("train", "test") if splits[0] else ("test", "train")
        raise DataError(f"{root} has {have}/ but no {lack}/: give both splits, or neither (then a sixth of each "
                        "class is held out for test)")
    parts = ("train", "test") if all(splits) else (".",)
    walked = [walk(root / part, 2 if part != "test" else 1) for part in parts]  # [(classes, files)]
    if all(splits):
        missing = sorted(set(walked[1][0]) - set(walked[0][0]))
        if missing:
            raise DataError(f"{root / 'test'} has classes that {root / 'train'} lacks: {', '.join(missing)}")
    read, skipped = [], []
    for part, (classes, files) in zip(parts, walked):
        shown_as = root.resolve().name + ("" if part == "." else f"/{part}")
        images, labels, kept, lines = prepared(files, root / part, shown_as, verbose)
        skipped += lines
        for index, cls in enumerate(classes):
            if not (labels == index).any():
                raise DataError(f"class folder {root / part / cls} has no usable image "
                                f"({sum(label == index for _, label in files)} files, none read): mend it or remove it")
        read.append((images, labels, kept))
    if verbose:
        for line in skipped:
            print(f"skipped {line}")
        if skipped:
            print(f"{len(skipped)} file{'s' * (len(skipped) != 1)} skipped in {name}; the others are used")
    classes = walked[0][0]
    if all(splits):
        (train_images, train_labels, _), (test_images, test_labels, _) = read
        test_classes = walked[1][0]  # in training's numbering
        test_labels = np.array([classes.index(test_classes[label]) for label in test_labels], np.int64)
        sources = f"{name}/train", f"{name}/test"
    else:
        images, labels, kept = read[0]
        test = held_out(walked[0][1], kept, labels)
        train_images, train_labels, test_images, test_labels = images[~test], labels[~test], images[test], labels[test]
        sources = (f"{name}, all but a sixth of each class (a fixed split: no train/ and test/ folders)",
                   f"{name}, the sixth of each class held out (the same for every seed)")
    if not len(test_images):
        raise DataError(f"{name} leaves no image for test: give each class two images at least, or a test/ folder")
    return tuple(Split(torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y), source, tuple(classes))
                 for x, y, source in ((train_images, train_labels, sources[0]), (test_images, test_labels, sources[1])))
