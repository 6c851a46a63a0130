"""Several characters in one picture: found among the ink's pieces, left to right, each prepared as a single
character is; what cannot be split is refused in one line."""
import numpy as np
import pytest
from PIL import Image, ImageDraw

from conae.offline.transfer import photographed, written_number
from conae.prepare import WORK_SIDE, ImageError, prepare
from conae.segment import MAX_PARTS, characters, widest
from tests.test_recognise import mnist_digits, similar


def page(size=(300, 120)):
    image = Image.new("L", size, 255)
    return image, ImageDraw.Draw(image)


def test_one_character_is_what_prepare_gives():
    for digit in mnist_digits(300):
        image = Image.fromarray(digit)
        (box, prepared), = characters(image)
        assert np.array_equal(prepared, prepare(image))
        rows, cols = np.nonzero(digit >= 0.1 * digit.max())
        assert box == [cols.min(), rows.min(), np.ptp(cols) + 1, np.ptp(rows) + 1]


def test_digits_side_by_side_are_read_left_to_right_each_as_it_was():
    digits = mnist_digits(40)
    for n in range(2, 7):
        chosen = digits[n * 5:n * 5 + n]
        image = written_number(chosen, seed=n)
        found = characters(image)
        assert len(found) == n
        lefts = [box[0] for box, _ in found]
        assert lefts == sorted(lefts)
        assert all(similar(prepared, digit) > 0.8 for (_, prepared), digit in zip(found, chosen))


def test_a_photographed_number_is_split_as_the_clean_one():
    digits = mnist_digits(6)
    number = written_number(digits, seed=1)
    clean = characters(number)
    photo = photographed(number, seed=3, size=(960, 720))
    assert max(photo.size) > WORK_SIDE  # the boxes are in the photo's own pixels
    found = characters(photo)
    assert len(found) == len(clean) == 6
    assert all(similar(a, b) > 0.8 for (_, a), (_, b) in zip(found, clean))
    assert all(0 <= x and x + w <= photo.width and 0 <= y and y + h <= photo.height for (x, y, w, h), _ in found)


def test_boxes_are_in_the_images_own_pixels():
    image, draw = page((1200, 400))  # reduced to WORK_SIDE wide for the search
    draw.line([(100, 50), (100, 350)], fill=0, width=24)
    draw.ellipse((600, 50, 800, 350), outline=0, width=24)
    (one, _), (zero, _) = characters(image)
    assert abs(one[0] - 88) <= 6 and abs(one[2] - 24) <= 8 and abs(one[1] - 50) <= 6 and abs(one[3] - 300) <= 8
    assert abs(zero[0] - 600) <= 6 and abs(zero[2] - 200) <= 8


def test_pieces_that_share_columns_are_one_character():
    image, draw = page()
    draw.line([(40, 50), (40, 100)], fill=0, width=6)  # an i: its stem
    draw.ellipse((36, 30, 44, 38), fill=0)  # and its dot
    draw.line([(120, 40), (160, 40)], fill=0, width=6)  # a 5 whose bar came loose
    draw.line([(122, 48), (120, 70)], fill=0, width=6)
    draw.arc((112, 62, 162, 104), start=-100, end=150, fill=0, width=6)
    assert len(characters(image)) == 2


def test_dust_on_a_clean_page_is_not_a_character():
    image, draw = page()
    draw.line([(60, 20), (60, 100)], fill=0, width=8)
    draw.line([(150, 20), (150, 100)], fill=0, width=8)
    draw.ellipse((240, 98, 242, 100), fill=0)  # a speck far from both
    assert len(characters(image)) == 2


def test_what_cannot_be_split_is_one_line():
    image, draw = page()
    draw.line([(40, 30), (40, 90)], fill=0, width=8)
    draw.ellipse((40, 30, 160, 90), outline=0, width=8)  # a 1 touching a wide 0
    draw.line([(220, 30), (220, 90)], fill=0, width=8)
    with pytest.raises(ImageError, match=r"^touching: one of its characters is \d\.\d times as wide as the line is "
                                         r"high, so characters seem to touch; conae cannot split them: leave a gap "
                                         r"between characters$"):
        characters(image, "touching")
    alone, draw = page()
    draw.ellipse((20, 40, 280, 80), outline=0, width=6)  # one piece six times as wide as high
    with pytest.raises(ImageError, match="^flat: its ink is .* times as wide"):
        characters(alone, "flat")
    assert len(characters(alone, "flat", widest=6)) == 1  # a model of characters that wide reads it
    dots, draw = page((400, 120))
    for i in range(MAX_PARTS + 1):
        draw.ellipse((5 + 9 * i, 50, 10 + 9 * i, 55), fill=0)
    with pytest.raises(ImageError, match=f"^dots has {MAX_PARTS + 1} separate pieces of ink, more than conae reads"):
        characters(dots, "dots")
    with pytest.raises(ImageError, match="^blank has no ink"):
        characters(page()[0], "blank")


def test_a_set_with_characters_as_flat_as_a_dash_lets_a_lone_wide_character_through():
    dashes = np.zeros((3, 28, 28), np.uint8)
    dashes[:, 14, 4:24] = 255  # 20 pixels wide, 1 high
    assert widest(dashes) == np.inf
    assert np.isfinite(widest(np.pad(np.full((3, 20, 10), 255, np.uint8), ((0, 0), (4, 4), (9, 9)))))
