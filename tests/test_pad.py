"""The drawing pad without a browser: its strokes, undo and clear, what it reads (the very reading `conae
recognise` gives the saved drawing), and its one line for what it cannot read. tests/test_browser.py writes on it
in JupyterLab."""
import io
import json

import numpy as np
import pytest
from PIL import Image

from conae.cli import main
from conae.pad import PAD, digit_strokes, draw, rendered

pytest.importorskip("ipycanvas")


@pytest.fixture(scope="module")
def pad():
    return draw()


def test_strokes_are_drawn_with_round_ends_and_joints():
    page = np.asarray(rendered([(20, [(50, 50), (150, 50), (150, 150)]), (10, [(300, 100)])], PAD))
    assert page.shape == (PAD[1], PAD[0]) and page[50, 50] == 0 and page[150, 150] == 0
    assert page[50, 41] == 0 and page[50, 38] == 255  # the round end reaches half the pen's width past the point
    assert page[100, 300] == 0 and page[100, 306] == 255  # a stroke of one point is a dot of the pen's width
    assert page[200, 400] == 255


def test_what_the_pad_shows_is_what_recognise_reads_from_the_saved_drawing(pad, tmp_path, capsys):
    pad.clear()
    for stroke in digit_strokes("47"):
        pad.pen_down(*stroke[1][0])
        for point in stroke[1][1:]:
            pad.pen_moves(*point)
        pad.pen_up()
    assert len(pad.strokes) == 2 and pad.reading["text"] == "47"
    assert "<b>47</b>" in pad.vote.value and pad.vote.value.count("runner-up") == 2
    pad.save(tmp_path / "drawn.png")
    assert main(["recognise", str(tmp_path / "drawn.png"), "--json"]) == 0
    reading, = json.loads(capsys.readouterr().out)
    assert reading["text"] == "47"
    assert [c["votes"] for c in reading["characters"]] == [c["votes"] for c in pad.reading["characters"]]
    assert Image.open(io.BytesIO(pad.seen.value)).size == (7 * 56, 2 * 56)  # a row per character: 28x28, rebuilt, 5


def test_undo_takes_the_last_stroke_away_and_clear_all(pad):
    pad.clear()
    pad.strokes = list(digit_strokes("47"))
    pad.update()
    pad.undo()
    assert len(pad.strokes) == 1 and pad.reading["text"] == "4"
    pad.clear()
    assert pad.strokes == [] and pad.reading is None
    assert pad.vote.value.count("The pad is empty") == 1
    pad.undo()  # nothing to undo: still empty, no error
    assert pad.strokes == []


def test_what_the_pad_cannot_read_is_one_line(pad):
    pad.clear()
    pad.pen_down(100, 100)
    pad.pen_up()
    assert pad.problem == "Only dots so far: draw a stroke (press, move, let go)."
    pad.strokes = [(16, [(40, 120), (300, 120), (300, 60)]), (16, [(330, 60), (330, 120)])]
    pad.update()
    assert pad.reading is None and pad.problem.startswith("One of its characters is ")
    assert "characters seem to touch" in pad.problem and "\n" not in pad.problem
    pad.pen_moves(5, 5)  # a move with no pen down draws nothing
    pad.pen_up()
    assert len(pad.strokes) == 2


def test_a_viewer_without_a_kernel_gets_a_picture(pad):
    pad.strokes = list(digit_strokes("2026"))
    pad.update()
    bundle = pad._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and bundle["image/png"]
    assert pad.figure().axes[0].get_title() == "The drawing pad: read as 2026"


def test_any_trained_model_can_read_the_pad(splits, tmp_path):
    from conae.model import ConvAE
    from conae.recognise import reference_from_model
    train, _ = splits
    reference = reference_from_model(ConvAE(3), train)
    pad = draw(reference, strokes=digit_strokes("17"))
    assert pad.reference is reference and len(pad.reading["characters"]) == 2
    assert set(pad.reading["text"]) <= set(train.classes)
