"""What a character set is, shared by every module that reads one (a leaf: it imports nothing of conae's but the
error type): the named sets and their class names, a folder of your own images (`folder:PATH`), a Split of images
in memory, and the DataError a data problem raises."""
import string
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

DIGITS = tuple(string.digits)
FOLDER_PREFIX = "folder:"  # dataset "folder:PATH": your own images, one folder per class (conae.folder)


@dataclass(frozen=True)
class Dataset:
    title: str                 # as printed: "Fashion-MNIST"
    folder: str                # torchvision's class, also the folder of its files: ROOT/FOLDER/raw
    classes: tuple             # class names by label
    prefixes: tuple = ("train", "t10k")  # raw file names: PREFIX-images-idx3-ubyte, PREFIX-labels-idx1-ubyte
    options: tuple = ()        # extra arguments of the torchvision class, as (name, value) pairs
    first_label: int = 0       # EMNIST letters are labelled 1..26; conae makes every label set start at 0
    transposed: bool = False   # EMNIST stores images transposed; conae turns them upright


DATASETS = {
    "mnist": Dataset("MNIST", "MNIST", DIGITS),
    "fashion-mnist": Dataset("Fashion-MNIST", "FashionMNIST", (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")),
    "kmnist": Dataset("Kuzushiji-MNIST", "KMNIST", ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
    "emnist-letters": Dataset("EMNIST letters", "EMNIST", tuple(string.ascii_lowercase),
                              prefixes=("emnist-letters-train", "emnist-letters-test"),
                              options=(("split", "letters"),), first_label=1, transposed=True),
}


class DataError(UserError):
    """A data problem the user can fix; its message says what is wrong and what to do."""


@dataclass
class Split:
    images: "torch.Tensor"  # uint8 [N, 28, 28]  # noqa: F821 (annotations only: this module needs no torch)
    labels: "torch.Tensor"  # int64 [N]  # noqa: F821
    source: str             # where the images came from, said in messages, the notebook and metrics.json
    classes: tuple = DIGITS  # class names by label

    def __len__(self):
        return len(self.labels)


def is_folder(dataset):
    """Whether dataset names a folder of your own images ("folder:PATH")."""
    return isinstance(dataset, str) and dataset.startswith(FOLDER_PREFIX)


def folder_of(dataset):
    return Path(dataset[len(FOLDER_PREFIX):])


def dataset_title(dataset):
    """How a data set is named in messages: "Fashion-MNIST", "folder letters" (a folder by its name, never by a
    machine's path)."""
    if is_folder(dataset):
        return f"folder {folder_of(dataset).resolve().name}"
    return DATASETS[dataset].title


def is_known(dataset):
    """Whether dataset names a character set conae can load: a key of DATASETS, or folder:PATH with a PATH."""
    return dataset in DATASETS or (is_folder(dataset) and dataset != FOLDER_PREFIX)
