"""Recognise your own characters: preparation as MNIST was made, the vote, the command and its bad input."""
import json

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps
from scipy.ndimage import gaussian_filter

from conae.checkpoint import read_checkpoint
from conae.cli import main
from conae.data import read_idx
from conae.evaluate import knn_predictions
from conae.offline.transfer import drawn_on_paper
from conae.prepare import prepare
from conae.recognise import ImageError, load_reference, recognise
from tests.conftest import SHARED_DATA
from tests.test_robustness import assert_one_line_error

MNIST_TEST = SHARED_DATA / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz"


@pytest.fixture(scope="module")
def model_pt(tmp_path_factory):
    """A model.pt from `conae train` on tiny synthetic digits (it carries the training codes)."""
    from tests.conftest import figures_off, write_tiny_root
    root, out = write_tiny_root(tmp_path_factory.mktemp("data")), tmp_path_factory.mktemp("run")
    with figures_off():  # they are beside the point here
        assert main(["train", "--data-root", str(root), "--out", str(out), "--steps", "30", "--batch-size", "32",
                     "--baselines", "none", "--no-download"]) == 0
    return out / "model.pt"


def mnist_digits(n):
    if not MNIST_TEST.is_file():
        pytest.skip(f"real MNIST test set not found at {MNIST_TEST.parent}")
    return read_idx(MNIST_TEST)[:n]


def similar(a, b):
    """Correlation of two 28x28 images after a blur that forgives a pixel's shift of a thin stroke."""
    return np.corrcoef(gaussian_filter(np.asarray(a, float), 1.5).ravel(),
                       gaussian_filter(np.asarray(b, float), 1.5).ravel())[0, 1]


def changed_by_preparation(digits):
    """The indices of the digits that prepare() does not give back as they are, each checked to be still like
    itself."""
    prepared = [prepare(Image.fromarray(digit)).numpy() for digit in digits]
    changed = [i for i, (a, b) in enumerate(zip(prepared, digits)) if not np.array_equal(a, b)]
    assert all(similar(prepared[i], digits[i]) > 0.85 for i in changed)
    return changed


def test_preparation_is_the_identity_on_mnist_digits():
    digits = mnist_digits(10_000)
    # the first 1,500 digits, then two whose clear ink spans 19 pixels: scaled to 20, they change, a little
    assert changed_by_preparation(np.concatenate([digits[:1500], digits[[4530, 5858]]])) == [1500, 1501]


@pytest.mark.slow
def test_preparation_changes_7_of_the_10000_official_test_digits():
    assert len(changed_by_preparation(mnist_digits(10_000))) == 7  # docs/cli.md says so


def test_an_mnist_digit_as_its_own_png_gets_the_vote_its_code_gets_in_evaluate(model_pt, tmp_path, capsys):
    digits = mnist_digits(60)
    paths = []
    for i, digit in enumerate(digits):
        paths.append(tmp_path / f"digit{i}.png")
        Image.fromarray(digit).save(paths[-1])
    assert main(["recognise", *map(str, paths), "--model", str(model_pt), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    reference = load_reference(model_pt)
    from conae.inference import encode
    from conae.prepare import deskewed
    assert reference.deskew  # the default deskews: evaluate sees the test digits deskewed, and so does recognise
    expected = knn_predictions(reference.train_codes, reference.train_labels,
                               encode(reference.model, deskewed(torch.from_numpy(digits.copy()))))[5]
    assert [r["class"] for r in printed] == expected.tolist()
    assert [r["path"] for r in printed] == list(map(str, paths))
    assert set(printed[0]) == {"path", "label", "class", "votes", "runner_up", "bce", "text", "characters"}
    assert all(r["text"] == r["label"] and len(r["characters"]) == 1 for r in printed)
    assert [r["characters"][0]["label"] for r in printed] == [r["label"] for r in printed]


def test_a_digit_drawn_large_off_centre_dark_on_light_in_colour_is_prepared_like_mnist():
    for i, digit in enumerate(mnist_digits(20)):
        drawn = drawn_on_paper(digit, seed=i)  # 240x180, colour, dark ink on light paper, off-centre
        assert drawn.size == (240, 180) and drawn.mode == "RGB"
        for image in (drawn, drawn.convert("L"), ImageOps.invert(drawn)):  # and light ink on dark
            assert similar(prepare(image), digit) > 0.9


def test_transparent_background_counts_as_paper():
    digit = mnist_digits(1)[0]
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = digit  # black strokes whose opacity is the ink
    assert similar(prepare(Image.fromarray(rgba, "RGBA")), digit) > 0.95


def test_recognise_votes_with_share_runner_up_and_bce(model_pt):
    reference = load_reference(model_pt)
    images = reference.train_images[:4]
    results = recognise(images, reference, k=5)
    own = knn_predictions(reference.train_codes, reference.train_labels, reference.train_codes[:4], ks=(5,))[5]
    assert [r["class"] for r in results] == own.tolist()
    for r in results:
        assert r["label"] == reference.classes[r["class"]] and r["votes"] in (0.2, 0.4, 0.6, 0.8, 1.0)
        assert r["runner_up"] is None or r["runner_up"]["votes"] <= r["votes"]
        assert 0 < r["bce"] < 1 and len(r["nearest"]) == 5


def test_recognise_writes_a_figure_per_image_and_names_each_file(model_pt, tmp_path, capsys):
    digits = mnist_digits(2)
    paths = [tmp_path / "a" / "one.png", tmp_path / "b" / "one.jpg"]
    for path, digit in zip(paths, digits):
        path.parent.mkdir()
        drawn_on_paper(digit).save(path)
    out = tmp_path / "figures"
    assert main(["recognise", *map(str, paths), "--model", str(model_pt), "--k", "3", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{paths[0]}: ") and "of the votes" in lines[0] and "reconstruction BCE" in lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["one.png", "one_.png"]


def test_bad_files_are_one_line_each_and_the_good_ones_are_still_recognised(model_pt, tmp_path, capsys):
    good = tmp_path / "good.png"
    Image.fromarray(mnist_digits(1)[0]).save(good)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 40), 230).save(blank)
    out = tmp_path / "figures"
    assert main(["recognise", str(text), str(good), str(blank), "--model", str(model_pt), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{good}: ")
    errors = captured.err.splitlines()
    assert errors == [e for e in errors if e.startswith("error: ")] and len(errors) == 2
    assert f"{text} is not an image" in errors[0] and f"{blank} has no ink" in errors[1]
    assert sorted(p.name for p in out.iterdir()) == ["good.png"]  # no figure of a bad file
    with pytest.raises(ImageError, match="has no ink"):
        prepare(Image.new("RGB", (10, 10), (0, 0, 0)))


def test_bad_models_and_outs_are_one_line_and_write_nothing(model_pt, tmp_path, capsys):
    image = tmp_path / "digit.png"
    Image.fromarray(np.full((28, 28), 200, np.uint8)).save(image)
    not_pt = tmp_path / "not.pt"
    not_pt.write_text("hello")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": 1}, foreign)
    old = tmp_path / "old.pt"
    ckpt = read_checkpoint(model_pt)
    ckpt.pop("codes")  # as conae wrote them before the codes were saved
    torch.save(ckpt, old)
    afile = tmp_path / "afile"
    afile.write_text("x")
    for model, out, message in [(tmp_path / "missing.pt", None, "no checkpoint at"),
                                (not_pt, None, "not.pt is not a conae checkpoint"),
                                (foreign, None, "foreign.pt is not a conae checkpoint"),
                                (old, None, "old.pt holds no training codes (it was written before conae saved them, "
                                            "or by another command): train a new one with python -m conae train"),
                                (model_pt, afile / "figures", "is not a writable folder")]:
        flags = ["--out", str(out)] if out else []
        assert main(["recognise", str(image), "--model", str(model), *flags]) == 1
        last = assert_one_line_error(capsys, message)
        assert str(out or model) in last  # the error names the file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "digit.png", "foreign.pt", "not.pt", "old.pt"]


def test_a_model_from_before_deskewing_reads_images_as_they_come():
    from dataclasses import asdict

    from conae.config import Config, config_from_dict
    stored = asdict(Config())
    del stored["deskew"]  # a checkpoint written before the setting existed
    assert config_from_dict(stored).deskew is False and Config().deskew is True
