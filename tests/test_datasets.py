"""Other character sets (--dataset): the same offline rules, torchvision's layouts, upright images."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conae.cli import main
from conae.data import DATASETS, DataError, load_data
from conae.offline.files import link_debian_files, write_idx
from tests.conftest import write_split

FASHION = DATASETS["fashion-mnist"].classes


def test_fashion_mnist_files_in_torchvisions_folder(tmp_path):
    write_split(tmp_path, "train", 50, seed=1, gz=True, folder="FashionMNIST")
    write_split(tmp_path, "t10k", 20, seed=2, gz=False, folder="FashionMNIST")
    train, test = load_data(tmp_path, download=False, dataset="fashion-mnist")
    assert (len(train), len(test)) == (50, 20)
    assert test.source == "Fashion-MNIST test files in FashionMNIST/raw under the data root"  # no machine path
    assert train.classes == FASHION and train.classes[9] == "Ankle boot"


def emnist_letters(root, n, first_label=1):
    """EMNIST-letters files as the NIST release stores them: each image transposed, labels 1..26."""
    images = np.zeros((n, 28, 28), np.uint8)
    images[:, 3, :] = 255  # a bar along the top row of the upright letter...
    labels = np.arange(n) % 26 + first_label
    raw = Path(root) / "EMNIST" / "raw"
    for part in ("train", "test"):
        write_idx(raw / f"emnist-letters-{part}-images-idx3-ubyte", images.transpose(0, 2, 1))  # ...a column on file
        write_idx(raw / f"emnist-letters-{part}-labels-idx1-ubyte", labels)
    return labels


def test_emnist_letters_come_upright_with_labels_from_zero(tmp_path):
    labels = emnist_letters(tmp_path, 52)
    train, test = load_data(tmp_path, download=False, dataset="emnist-letters")
    assert train.images[0, 3].tolist() == [255] * 28 and train.images[0, :, 3].sum() == 255
    assert torch.equal(train.labels, torch.from_numpy(labels - 1)) and train.classes[0] == "a"
    assert len(train.classes) == 26 and "files in" in test.source


def test_labels_outside_the_classes_are_a_clear_error(tmp_path):
    emnist_letters(tmp_path, 30, first_label=0)  # 0 is "N/A" in EMNIST letters
    with pytest.raises(DataError, match="has labels 0..25, expected 1..26 for EMNIST letters"):
        load_data(tmp_path, download=False, dataset="emnist-letters")


def test_other_datasets_have_no_offline_fallback(tmp_path):
    with pytest.raises(DataError, match=r"no Kuzushiji-MNIST test files in .*KMNIST.*download is off.*MNIST only"):
        load_data(tmp_path, download=False, fallback=True, dataset="kmnist")
    assert not (tmp_path / "KMNIST").exists()


def test_download_goes_through_the_matching_torchvision_class(tmp_path, monkeypatch):
    calls = []

    class FakeEMNIST:  # what torchvision.datasets.EMNIST(root, split="letters", download=True) returns
        def __init__(self, root, train, download, split):
            calls.append(dict(train=train, download=download, split=split))
            self.data = torch.zeros(4, 28, 28, dtype=torch.uint8)
            self.data[:, :, 0] = 7  # transposed on file: the first column is the upright first row
            self.targets = torch.tensor([1, 2, 3, 26])

    import torchvision  # imported here: slow, and only these tests need it
    monkeypatch.setattr(torchvision.datasets, "EMNIST", FakeEMNIST)
    train, test = load_data(tmp_path, download=True, dataset="emnist-letters")
    assert calls == [dict(train=False, download=True, split="letters"), dict(train=True, download=True, split="letters")]
    assert test.labels.tolist() == [0, 1, 2, 25] and test.images[0, 0].tolist() == [7] * 28
    assert "EMNIST letters test set downloaded to" in test.source


@pytest.mark.slow
def test_fashion_mnist_end_to_end_from_the_debian_package(tmp_path, no_figures):
    if link_debian_files("fashion-mnist", tmp_path / "data") is None:
        pytest.skip("Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
    out = tmp_path / "fashion"
    assert main(["train", "--dataset", "fashion-mnist", "--data-root", str(tmp_path / "data"), "--out", str(out),
                 "--train-subset", "3000", "--epochs", "3", "--no-download"]) == 0  # figures: tests/test_cli.py
    m = json.loads((out / "metrics.json").read_text())
    assert (m["n_train"], m["n_test"]) == (3000, 10000) and m["config"]["dataset"] == "fashion-mnist"
    assert m["test_source"].startswith("Fashion-MNIST test files") and m["classes"] == list(FASHION)
    assert m["knn_accuracy"]["5"] > 0.5 and m["recognition"]["linear_probe_accuracy"] > 0.4  # chance: 0.1
    assert m["test_bce"] < m["pca_baseline"]["test_bce"]  # three numbers rebuild clothes better than PCA's three
