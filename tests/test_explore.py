"""The live explorer, the offline 3-D scatter and the rotating GIF."""
import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from conae.explore import Explorer, latent_3d_gif, latent_3d_html
from conae.inference import encode
from conae.model import ConvAE


@pytest.fixture(scope="module")
def model():
    return ConvAE(3).eval()


def test_sliders_span_the_test_codes_and_start_at_a_test_image(model, splits):
    train, test = splits
    explorer = Explorer(model, train, test, k=3, start=7)
    codes = encode(model, test.images)
    low, high = np.percentile(codes, [1, 99], axis=0)
    assert [s.description for s in explorer.sliders] == ["z1", "z2", "z3"]
    assert [s.min for s in explorer.sliders] == pytest.approx(low) and [s.max for s in explorer.sliders] == pytest.approx(high)
    assert explorer.code() == pytest.approx(np.clip(codes[7], low, high), abs=1e-6)
    assert explorer.chooser.value == 7 and test.classes[int(test.labels[7])] in explorer.source.value


def test_moving_a_slider_redraws_the_character_and_the_vote(model, splits):
    train, test = splits
    explorer = Explorer(model, train, test, k=3)
    before = explorer.decoded.value
    slider = explorer.sliders[0]
    slider.value = slider.max if slider.value < (slider.min + slider.max) / 2 else slider.min
    assert explorer.decoded.value != before
    assert Image.open(io.BytesIO(explorer.decoded.value)).size == (168, 168)
    # the vote shown is the vote of the 3 training codes nearest the code now shown, counted here by hand
    distances = np.linalg.norm(encode(model, train.images) - explorer.code(), axis=1)
    labels = train.labels.numpy()[np.argsort(distances, kind="stable")[:3]]
    counts = np.bincount(labels, minlength=len(train.classes))
    winner = int(np.argmax(counts))  # among equals the smallest label, as conae.knn.vote
    assert f"<b>{train.classes[winner]}</b></span><br>{counts[winner] / 3:.0%} of the votes" in explorer.vote.value
    assert Image.open(io.BytesIO(explorer.nearest.value)).size == (3 * 84, 84)  # the 3 nearest training images
    explorer.chooser.value = 11  # the text box loads another test image's code
    assert explorer.code() == pytest.approx(np.clip(encode(model, test.images[11:12])[0],
                                                    [s.min for s in explorer.sliders],
                                                    [s.max for s in explorer.sliders]), abs=1e-5)


def test_other_code_sizes_get_at_most_three_sliders(splits):
    train, test = splits
    assert len(Explorer(ConvAE(2), train, test).sliders) == 2
    five = Explorer(ConvAE(5).eval(), train, test, start=4)
    assert len(five.sliders) == 3
    five.sliders[0].value = five.sliders[0].min
    assert five.code()[3:] == pytest.approx(encode(five.model, test.images[4:5])[0][3:], abs=1e-5)  # the rest: the test image's


def test_displayed_it_is_a_widget_with_a_static_png_of_its_initial_state(model, splits):
    train, test = splits
    bundle = Explorer(model, train, test)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    picture = Image.open(io.BytesIO(base64.b64decode(bundle["image/png"])))
    assert picture.format == "PNG" and picture.size[0] > 600


def test_the_3d_scatter_is_one_file_that_fetches_nothing(model, splits, tmp_path):
    _, test = splits
    path = latent_3d_html(model, test, tmp_path / "latent_3d.html")
    html = path.read_text()
    assert "scatter3d" in html and "test image %{customdata[0]}" in html and "class %{customdata[1]}" in html
    assert not re.findall(r"<script[^>]+src=", html)  # plotly.js is inside: no script comes from the network
    assert len(html) > 1_000_000


def test_the_rotating_gif_turns(model, splits, tmp_path):
    _, test = splits
    path = latent_3d_gif(model, test, tmp_path / "latent_3d.gif", frames=6)
    gif = Image.open(path)
    assert gif.format == "GIF" and gif.n_frames == 6
    frames = []
    for i in range(2):
        gif.seek(i)
        frames.append(np.asarray(gif.convert("L")))
    assert not np.array_equal(frames[0], frames[1])
    assert list(tmp_path.iterdir()) == [path]  # written atomically: no temporary file left
