"""Your own characters: a folder of images (torchvision's ImageFolder layout) as a character set, everywhere a data
set goes: both layouts, every kind of bad file, the cache, and class names through to `conae recognise`."""
import json
import shutil

import numpy as np
import pytest
from PIL import Image, ImageDraw

import conae.folder
import conae.prepare
from conae.checkpoint import load_checkpoint
from conae.cli import main
from conae.config import ConfigError, make_config
from conae.data import DataError, check_data_root, load_data, load_splits
from conae.explore import explore

from .test_robustness import assert_one_line_error

SHAPES = ("bar", "cross", "post", "ring")  # sorted, as ImageFolder orders the class folders


def shape(kind, rng):
    """One character of a kind, drawn as a pen might on a page of random size and paper: dark on light."""
    page = Image.new("L", (int(rng.integers(40, 90)), int(rng.integers(40, 90))), int(rng.integers(200, 250)))
    draw, (w, h), m, pen = ImageDraw.Draw(page), page.size, 6, int(rng.integers(3, 7))
    if kind in ("bar", "cross"):
        draw.line([(m, h / 2), (w - m, h / 2)], fill=20, width=pen)
    if kind in ("post", "cross"):
        draw.line([(w / 2, m), (w / 2, h - m)], fill=20, width=pen)
    if kind == "ring":
        draw.ellipse([m, m, w - m, h - m], outline=20, width=pen)
    if kind == "zigzag":
        draw.line([(m, m), (w / 3, h - m), (2 * w / 3, m), (w - m, h - m)], fill=20, width=pen)
    return page


def write_shapes(root, n=12, seed=0, kinds=SHAPES):
    """root/KIND/KIND-i.png for each kind: a folder data set without train/ and test/."""
    rng = np.random.default_rng(seed)
    for kind in kinds:
        (root / kind).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            shape(kind, rng).save(root / kind / f"{kind}-{i}.png")
    return root


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """A folder of 4 classes of 12 images, and one with train/ and test/ (the test split lacking a class)."""
    base = tmp_path_factory.mktemp("folders")
    flat = write_shapes(base / "shapes")
    write_shapes(base / "split" / "train", n=10, seed=1)
    write_shapes(base / "split" / "test", n=3, seed=2, kinds=("cross", "ring"))
    return flat, base / "split"


def test_a_folder_without_splits_holds_out_a_sixth_of_each_class_the_same_for_every_seed(shapes, capsys):
    train, test = load_data(dataset=f"folder:{shapes[0]}")
    assert train.classes == test.classes == SHAPES and len(train) == 40 and len(test) == 8
    assert np.bincount(test.labels.numpy()).tolist() == [2, 2, 2, 2]  # a sixth of each class of 12
    assert train.images.shape[1:] == (28, 28) and train.images.dtype.is_floating_point is False
    printed = capsys.readouterr().out
    assert "train: 40 images from folder shapes, all but a sixth of each class (a fixed split" in printed
    assert "test: 8 images from folder shapes, the sixth of each class held out" in printed
    for seed in (0, 7):  # the split is the folder's, not the run's
        cfg = make_config("default", dataset=f"folder:{shapes[0]}", seed=seed, deskew=False)
        assert (load_splits(cfg, verbose=False)[1].images == test.images).all()
    train_pixels = {bytes(x.numpy()) for x in train.images}
    assert not any(bytes(x.numpy()) in train_pixels for x in test.images)  # no test image is trained on


def test_train_and_test_folders_are_the_splits_and_test_labels_follow_trainings_classes(shapes, capsys):
    train, test = load_data(dataset=f"folder:{shapes[1]}")
    assert train.classes == SHAPES and len(train) == 40 and len(test) == 6
    assert sorted(set(test.labels.tolist())) == [SHAPES.index("cross"), SHAPES.index("ring")]
    assert "train: 40 images from folder split/train\ntest: 6 images from folder split/test" in capsys.readouterr().out


def test_every_image_is_prepared_as_recognise_prepares_it(shapes):
    train, _ = load_data(dataset=f"folder:{shapes[1]}", verbose=False)
    first = conae.prepare.prepare(conae.prepare.read_image(shapes[1] / "train" / "bar" / "bar-0.png"))
    assert (train.images[0] == first).all()


def test_bad_files_are_skipped_one_line_each_and_the_rest_still_train(shapes, tmp_path, capsys):
    root = shutil.copytree(shapes[0], tmp_path / "odd")
    (root / "ring" / "notes.txt").write_text("not an image")
    (root / "ring" / "empty.png").write_bytes(b"")
    (root / "bar" / "cut.png").write_bytes((root / "bar" / "bar-0.png").read_bytes()[:80])
    Image.new("L", (50, 50), 240).save(root / "post" / "blank.png")  # paper, no ink
    (root / "post" / ".DS_Store").write_bytes(b"\0\1")  # hidden: not a file of the set
    train, test = load_data(dataset=f"folder:{root}")
    assert len(train) + len(test) == 48  # every good file
    lines = capsys.readouterr().out.splitlines()
    skipped = [line for line in lines if line.startswith("skipped ")]
    assert skipped == ["skipped odd/bar/cut.png is not an image PIL can read (image file is truncated)",
                       "skipped odd/post/blank.png has no ink: it is blank (or its strokes are as light as the paper)",
                       "skipped odd/ring/empty.png is empty (0 bytes)",
                       "skipped odd/ring/notes.txt is not an image PIL can read (cannot identify image file)"]
    assert "4 files skipped in folder odd; the others are used" in lines


@pytest.mark.parametrize("mend, error", [
    (lambda root: [p.unlink() for p in (root / "ring").iterdir()], "class folder {root}/ring has no usable image (0 files"),
    (lambda root: [(p.write_text("x")) for p in (root / "ring").iterdir()], "class folder {root}/ring has no usable image (12 files"),
    (lambda root: [shutil.rmtree(root / k) for k in ("bar", "cross", "post")], "{root} holds 1 class folder: a character set needs 2"),
    (lambda root: shutil.rmtree(root), "dataset 'folder:{root}': {root} is not a folder"),
    (lambda root: write_shapes(root / "train", n=2), "{root} has train/ but no test/"),
])
def test_a_folder_that_cannot_be_a_character_set_is_one_clear_error(shapes, tmp_path, capsys, mend, error):
    root = shutil.copytree(shapes[0], tmp_path / "set")
    mend(root)
    with pytest.raises(DataError, match="^" + error.format(root=root).replace("(", r"\(")):
        load_data(dataset=f"folder:{root}", verbose=False)
    assert main(["train", "--dataset", f"folder:{root}", "--out", str(tmp_path / "run"), "--steps", "2"]) == 1
    assert_one_line_error(capsys, error.format(root=root).split(" (")[0])
    assert not (tmp_path / "run" / "model.pt").exists()


def test_a_test_class_that_training_lacks_is_an_error(shapes, tmp_path):
    root = shutil.copytree(shapes[1], tmp_path / "split")
    write_shapes(root / "test", n=2, kinds=("zigzag",))
    with pytest.raises(DataError, match=f"^{root / 'test'} has classes that {root / 'train'} lacks: zigzag$"):
        load_data(dataset=f"folder:{root}", verbose=False)


def test_settings_name_a_folder_and_a_missing_one_is_refused_before_any_work(tmp_path):
    assert make_config("default", dataset="folder:anywhere").dataset == "folder:anywhere"  # checked when read
    with pytest.raises(ConfigError, match="choose one of mnist, .*, or folder:PATH"):
        make_config("default", dataset="folder:")
    with pytest.raises(DataError, match="is not a folder"):
        check_data_root("data", False, f"folder:{tmp_path / 'nowhere'}")
    check_data_root("no/such/root", False, f"folder:{tmp_path}")  # a folder set needs no data root


def test_prepared_images_come_from_the_cache_until_a_file_changes(shapes, tmp_path, monkeypatch):
    root = shutil.copytree(shapes[0], tmp_path / "cached")
    first = load_data(dataset=f"folder:{root}", verbose=False)
    calls = []
    real = conae.prepare.prepare
    monkeypatch.setattr(conae.prepare, "prepare", lambda *args: calls.append(args) or real(*args))
    again = load_data(dataset=f"folder:{root}", verbose=False)
    assert calls == [] and all((a.images == b.images).all() for a, b in zip(first, again))
    shape("cross", np.random.default_rng(9)).save(root / "bar" / "bar-3.png")  # one file's contents change
    changed = load_data(dataset=f"folder:{root}", verbose=False)
    assert len(calls) == 48  # prepared again
    assert not all((a.images == b.images).all() for a, b in zip(first, changed))


@pytest.mark.slow
def test_a_model_of_a_folder_keeps_its_class_names_through_recognise(shapes, tmp_path, capsys, no_figures):
    out = tmp_path / "run"
    assert main(["train", "--dataset", f"folder:{shapes[0]}", "--steps", "30", "--baselines", "none",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    files = [str(shapes[0] / kind / f"{kind}-5.png") for kind in SHAPES]
    assert main(["recognise", *files, "--model", str(out / "model.pt"), "--json"]) == 0
    readings = json.loads(capsys.readouterr().out)
    assert all(r["label"] in SHAPES and r["text"] == r["label"] for r in readings)
    assert all(r["runner_up"] is None or r["runner_up"]["label"] in SHAPES for r in readings)
    model, cfg = load_checkpoint(out / "model.pt")[:2]
    explorer = explore(model, *load_splits(cfg, verbose=False))  # the explorer names the folder's classes too
    assert explorer.state()[1] in SHAPES and any(f"<b>{kind}</b>" in explorer.source.value for kind in SHAPES)
    assert main(["compare", "--dataset", f"folder:{shapes[1]}", "--presets", "default", "--seeds", "0",
                 "--steps", "20", "--baselines", "pca", "--out", str(tmp_path / "compare")]) == 0
    comparison = json.loads((tmp_path / "compare" / "comparison.json").read_text())
    assert comparison["dataset"] == f"folder:{shapes[1]}" and comparison["n_test"] == 6
