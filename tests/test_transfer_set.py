"""The transfer set (conae.offline.transfer): other writers' digits, font digits, photographed copies stored turned."""
import numpy as np
import pytest
from PIL import Image

from conae.offline.transfer import (
    font_digits,
    handwriting_fonts,
    photographed,
    save_photo,
    uci_digits,
)
from conae.prepare import prepare, read_image


def test_uci_digits_are_1797_digits_by_other_writers_white_on_black():
    images, labels = uci_digits()
    assert len(images) == len(labels) == 1797 and set(labels) == set(range(10))
    assert images[0].size == (12, 12) and np.asarray(images[0])[:2].max() == 0  # a margin of paper
    assert prepare(images[0]).shape == (28, 28)


def test_font_digits_draw_each_digit_in_each_font():
    fonts = handwriting_fonts()
    if not fonts:
        pytest.skip("no handwriting font installed (Debian: fonts-dkg-handwriting, fonts-bwht, ...)")
    images, labels, names = font_digits(sizes=(48,), weights=(0,), fonts=fonts[:1])
    assert list(labels) == list(range(10)) and len(set(names)) == 1
    assert images[3].size == (96, 96) and np.median(np.asarray(images[3])) > 200  # dark ink on light paper


def test_a_photo_is_uneven_noisy_colour_and_can_be_stored_turned(tmp_path):
    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 12:16] = 255
    photo = photographed(digit, seed=0)
    assert photo.size == (480, 360) and photo.mode == "RGB"
    grey = np.asarray(photo.convert("L"), float)
    assert grey.max() - np.percentile(grey, 50) > 10  # lit unevenly: not one paper level
    path = save_photo(photo, tmp_path / "phone.jpg", turned=True)
    with Image.open(path) as stored:
        assert stored.size == (360, 480) and stored.getexif()[0x0112] == 6
    assert read_image(path).size == (480, 360)
