"""Preparing a picture from anywhere as MNIST was made: every PIL mode, EXIF orientation, shadows and specks, and
files that must not be read (bombs, truncated, corrupt), each one error naming the file."""
import io

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.ndimage import label

from conae.offline.transfer import photographed, save_photo
from conae.prepare import (
    MAX_PIXELS,
    ImageError,
    deskewed,
    grey_levels,
    prepare,
    read_image,
)
from tests.test_recognise import mnist_digits, similar


def seven():
    """A synthetic 28x28 'digit', white on black, not symmetric under a quarter turn."""
    digit = np.zeros((28, 28), np.uint8)
    digit[5:8, 6:22] = 255   # the bar on top
    digit[8:24, 17:20] = 255  # the stem on the right
    return digit


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "I", "I;16", "F"])
def test_every_pil_mode_gives_the_same_prepared_digit(mode):
    digit = seven()
    paper = Image.fromarray(255 - digit)  # dark ink on white paper
    if mode == "I;16":  # 16-bit grey, as scanners save it
        image = Image.fromarray((255 - digit).astype(np.uint16) * 257)
    elif mode == "I":
        image = Image.fromarray((255 - digit).astype(np.int32) * 257)
    elif mode == "F":
        image = Image.fromarray((255 - digit).astype(np.float32) / 255, "F")
    else:
        image = paper.convert(mode)
    assert image.mode == mode and grey_levels(image).max() <= 255
    assert similar(prepare(image), prepare(paper)) > 0.99, mode


def test_exif_orientation_is_honoured(tmp_path):
    photo = photographed(Image.fromarray(seven()), seed=1)
    upright = read_image(save_photo(photo, tmp_path / "upright.jpg"))
    turned = read_image(save_photo(photo, tmp_path / "turned.jpg", turned=True))
    with Image.open(tmp_path / "turned.jpg") as raw:
        assert raw.size == (photo.size[1], photo.size[0])  # stored sideways...
    assert turned.size == photo.size  # ...read upright
    assert similar(prepare(turned), prepare(upright)) > 0.95


@pytest.mark.slow
def test_a_shadow_across_the_page_is_paper_not_ink():
    digits = mnist_digits(20)
    agree = [similar(prepare(photographed(Image.fromarray(d), seed=i)), d) > 0.8 for i, d in enumerate(digits)]
    assert np.mean(agree) >= 0.9


def test_a_speck_on_a_photo_is_dropped_but_a_clean_digit_keeps_every_piece():
    page = np.full((200, 200), 230, np.uint8)
    page[50:150, 95:105] = 30  # a "1"
    page[10:13, 10:13] = 30   # a speck in the corner
    noisy = np.clip(page + np.random.default_rng(0).normal(0, 3, page.shape), 0, 255).astype(np.uint8)
    prepared = prepare(Image.fromarray(noisy)).numpy()
    assert prepared[:, :8].max() == 0 and prepared[:, 20:].max() == 0  # only the stroke, centred
    broken = seven()
    broken[25:27, 17:20] = 255  # a clean MNIST-style digit with a broken stroke: the separate piece stays
    assert label(prepare(Image.fromarray(broken)).numpy() > 0)[1] == 2


def test_a_decompression_bomb_is_refused_unread(tmp_path):
    bomb = tmp_path / "bomb.png"
    side = int(np.sqrt(MAX_PIXELS)) + 100
    Image.new("1", (side, side)).save(bomb)  # tiny on disk, huge once decoded
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(ImageError, match=f"{bomb} declares"):
        read_image(bomb)


def test_truncated_and_corrupt_files_are_one_error_naming_the_file(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(seven()).save(buffer, format="PNG")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(buffer.getvalue()[:-40])
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff" + bytes(200))
    for path in (truncated, corrupt):
        with pytest.raises(ImageError, match=str(path)):
            read_image(path)


def slant(image):
    """The covariance of an image's ink rows and columns over its row variance: 0 for upright ink."""
    ink = np.asarray(image, dtype=float)
    rows, cols = np.mgrid[:28, :28]
    cy, cx = (rows * ink).sum() / ink.sum(), (cols * ink).sum() / ink.sum()
    return ((rows - cy) * (cols - cx) * ink).sum() / ((rows - cy) ** 2 * ink).sum()


def test_deskewing_sets_a_leaning_stroke_upright_and_centres_it():
    leaning = np.zeros((28, 28), np.uint8)
    for row in range(4, 24):  # a stroke leaning right by half a pixel per row, off-centre
        leaning[row, 6 + (23 - row) // 2:9 + (23 - row) // 2] = 255
    upright = deskewed(torch.from_numpy(leaning))
    assert abs(slant(leaning)) > 0.3 and abs(slant(upright)) < 0.03
    mass = upright.numpy().astype(float)
    rows, cols = np.mgrid[:28, :28]
    assert np.allclose([(rows * mass).sum() / mass.sum(), (cols * mass).sum() / mass.sum()], 13.5, atol=0.3)
    assert upright.dtype == torch.uint8 and upright.shape == (28, 28)


def test_deskewing_keeps_upright_digits_and_blank_images_and_batches_alike():
    digits = torch.as_tensor(np.array(mnist_digits(8)))  # a copy: read_idx gives a read-only view of the bytes
    batch = deskewed(digits)
    assert torch.equal(batch[3], deskewed(digits[3]))  # one image or a batch: the same
    assert torch.equal(deskewed(torch.zeros(2, 28, 28, dtype=torch.uint8)), torch.zeros(2, 28, 28, dtype=torch.uint8))
    again = deskewed(batch)
    assert (again.int() - batch.int()).abs().float().mean() < 6  # upright already: moved little a second time
    assert all(abs(slant(d)) < 0.05 for d in batch)


# --- each step of the preparation, on images whose answer is known by hand ---

def test_files_that_cannot_be_read_say_which_and_why(tmp_path):
    def refused(path):
        with pytest.raises(ImageError) as e:
            read_image(path)
        return str(e.value)

    assert refused(tmp_path / "none.png") == f"{tmp_path / 'none.png'}: no such file"
    assert refused(tmp_path) == f"{tmp_path} is a folder, not an image"
    (tmp_path / "notes.png").write_text("a shopping list")
    assert refused(tmp_path / "notes.png").startswith(f"{tmp_path / 'notes.png'} is not an image PIL can read (")
    bomb = tmp_path / "bomb.png"
    Image.new("1", (8000, 6251)).save(bomb)  # 50,008,000 pixels: just past the limit
    assert refused(bomb) == (f"{bomb} declares 8,000 x 6,251 pixels, more than conae reads (50,000,000): not "
                             "loaded")
    Image.new("1", (8000, 6250)).save(bomb)  # exactly the limit: read
    assert read_image(bomb).size == (8000, 6250)


def test_deep_grey_and_float_images_are_scaled_from_their_own_range():
    def grey(values, mode):
        image = Image.fromarray(np.array([values], dtype={"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode]))
        assert image.mode == mode
        return grey_levels(image).ravel()

    assert grey([0, 1000, 255], "I;16") == pytest.approx([0, 1000 * 255 / 65535, 255 * 255 / 65535])
    assert grey([0, 200, 255], "I;16") == pytest.approx([0, 200, 255])  # 8-bit values in a 16-bit file
    assert grey([0, 256], "I;16") == pytest.approx([0, 256 * 255 / 65535])  # one above 8 bits: 16 bits
    assert grey([0, 100_000, 50_000], "I") == pytest.approx([0, 255, 127.5])  # beyond 16 bits: its own top
    assert grey([0, 0.5, 1], "F") == pytest.approx([0, 127.5, 255])  # floats up to 1
    assert grey([-5, 100, 255], "F") == pytest.approx([0, 100, 255])  # up to 255: as they are, clipped at 0
    assert grey([0, 300, 65535], "F") == pytest.approx([0, 300 * 255 / 65535, 255])


def test_transparency_is_paper_of_the_shade_opposite_the_strokes():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[1:3, 1:3] = (0, 0, 0, 255)      # dark strokes, opaque
    rgba[0, 0] = (255, 255, 255, 100)   # a faint white smudge: under half opaque, not a stroke
    grey = grey_levels(Image.fromarray(rgba, "RGBA"))
    assert grey[1, 1] == 0 and grey[3, 3] == 255  # dark strokes on transparency: white paper
    assert grey[0, 0] == pytest.approx(255)
    rgba[1:3, 1:3] = (255, 255, 255, 255)  # light strokes, opaque
    grey = grey_levels(Image.fromarray(rgba, "RGBA"))
    assert grey[1, 1] == 255 and grey[3, 3] == 0  # light strokes on transparency: black paper
    assert grey[0, 0] == pytest.approx(255 * 100 / 255)


def test_large_images_are_reduced_by_averaging_and_small_ones_kept():
    from conae.prepare import reduced
    big = np.kron(np.arange(6.0).reshape(2, 3), np.ones((256, 256)))  # 512 x 768, six flat blocks
    small = reduced(big)
    assert small.shape == (171, 256) and small[0, 0] == 0 and small[-1, -1] == 5
    assert reduced(big, longest=3).tolist() == [[0, 1, 2], [3, 4, 5]]  # each block averaged to its value
    assert reduced(np.ones((1, 2000))).shape == (1, 256)  # a side never shrinks below a pixel
    kept = np.ones((256, 100))
    assert reduced(kept) is kept


def test_the_rim_and_the_window_wider_than_a_stroke():
    from conae.prepare import rim, stroke_window
    image = np.arange(12).reshape(3, 4)
    assert rim(image).tolist() == [0, 1, 2, 3, 8, 9, 10, 11, 0, 4, 8, 3, 7, 11]
    assert stroke_window(np.zeros((24, 30))) == 5  # at least 5 pixels
    assert stroke_window(np.zeros((130, 200))) == 17  # a twelfth of the longer side
    assert stroke_window(np.zeros((66, 10))) == 6


def test_which_side_is_ink():
    from conae.prepare import ink_is_dark
    page = np.full((60, 60), 230.0)
    page[20:40, 28:32] = 20
    assert ink_is_dark(page) and not ink_is_dark(255 - page)  # the rim says which side is paper
    grey_page = np.full((60, 60), 128.0)  # a rim neither light nor dark: the ink strays from its surroundings
    grey_page[20:40, 29:31] = 20  # a stroke narrower than the 5-pixel window
    assert ink_is_dark(grey_page)
    grey_page[20:40, 29:31] = 240
    assert not ink_is_dark(grey_page)


def test_an_even_page_has_one_paper_level_and_a_shaded_one_a_level_under_every_pixel():
    from conae.prepare import paper_level
    even = np.full((40, 40), 20.0)
    even[0, :] = 21  # a rim varying by a grey level
    even[10:30, 18:22] = 250  # bright ink, as paper_level takes it
    level, noise_from = paper_level(even)
    assert np.isscalar(level) and level == 20 and len(noise_from) == 4 * 40
    shaded = even + np.linspace(0, 60, 40)[None, :]  # paper brightening by 60 levels across the page
    level, noise_from = paper_level(shaded)
    assert level.shape == (40, 40) and level[5, 0] == pytest.approx(shaded[5, 0], abs=3)
    assert level[20, 20] < 100  # under the stroke: the paper, not the ink
    assert noise_from.shape == (40, 40)


def test_the_ink_alone_with_faint_ink_stretched_and_a_blank_page_refused():
    from conae.prepare import ink_of
    page = np.full((40, 40), 255.0)
    page[10:30, 18:22] = 0
    ink, photographed = ink_of(page)
    assert ink.max() == 255 and ink[0, 0] == 0 and not photographed  # black ink on an even page: as it is
    page[10:30, 18:22] = 150  # pencil-grey ink on white: stretched to MNIST's full contrast
    ink, _ = ink_of(page)
    assert ink.max() == pytest.approx(255) and ink[15, 20] == pytest.approx(255)
    page[10:30, 18:22] = 255 - 9  # 9 levels of contrast: still ink
    assert ink_of(page)[0].max() == pytest.approx(255)
    page[10:30, 18:22] = 255 - 7  # 7: blank
    with pytest.raises(ImageError) as e:
        ink_of(page, "scan.png")
    assert str(e.value) == "scan.png has no ink: it is blank (or its strokes are as light as the paper)"
    noisy = np.clip(np.full((40, 40), 200.0) + np.random.default_rng(0).normal(0, 4, (40, 40)), 0, 255)
    noisy[10:30, 18:22] = 40
    assert ink_of(noisy)[1]  # noise on the paper: a photo or a scan


def test_a_bar_is_scaled_to_twenty_pixels_and_centred_by_its_mass():
    page = np.full((100, 100), 255, np.uint8)
    page[30:70, 50:60] = 0  # a 40 x 10 bar, dark on white
    expected = np.zeros((28, 28), np.uint8)
    expected[4:24, 12:17] = 255  # 20 x 5, its centre of mass at the field's centre (14, 14)
    prepared = prepare(Image.fromarray(page))
    assert prepared.dtype == torch.uint8 and np.array_equal(prepared.numpy(), expected)
    assert np.array_equal(prepare(Image.fromarray(page.T.copy())).numpy(), expected.T)  # lying down: the same
    dot = np.full((50, 50), 255, np.uint8)
    dot[10:14, 30:34] = 0  # a 4 x 4 dot is scaled up to 20 x 20
    expected = np.zeros((28, 28), np.uint8)
    expected[4:24, 4:24] = 255
    assert np.array_equal(prepare(Image.fromarray(dot)).numpy(), expected)


def test_the_crop_keeps_the_halo_round_the_ink_but_not_faint_marks_further_away():
    ink = np.zeros((60, 60), np.uint8)
    ink[20:40, 20:40] = 255  # a 20 x 20 block: already MNIST's size
    ink[19, 20:40] = 20      # a faint anti-aliased edge beside it, below a tenth of the strongest ink
    ink[5, 55] = 20          # a faint mark far away
    prepared = prepare(Image.fromarray(ink)).numpy()
    assert prepared.sum() == 255 * 400 + 20 * 20  # the block and its edge, not the far mark
    assert (prepared == 20).sum() == 20 and (prepared == 255).sum() == 400


@pytest.mark.parametrize("mode, dtype", [("I;16", "<u2"), ("I;16B", ">u2"), ("I;16L", "<u2"), ("I;16N", "=u2")])
def test_every_deep_grey_mode_is_scaled_from_sixteen_bits(mode, dtype):
    image = Image.frombytes(mode, (4, 1), np.array([0, 1000, 255, 256], dtype).tobytes())
    grey = grey_levels(image)
    assert grey.dtype == np.float64
    assert grey.ravel() == pytest.approx(np.array([0, 1000, 255, 256]) * 255 / 65535)  # 256: beyond 8 bits


def test_grey_levels_are_floats_whatever_the_mode():
    assert grey_levels(Image.new("L", (3, 2), 7)).dtype == np.float64
    assert grey_levels(Image.new("RGB", (3, 2), (9, 9, 9))).dtype == np.float64


def transparent_strokes(level):
    """4 x 4 RGBA: a 2 x 2 stroke of grey `level`, opaque, on transparency (whose hidden colour is black)."""
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[1:3, 1:3] = (level, level, level, 255)
    return Image.fromarray(rgba, "RGBA")


@pytest.mark.parametrize("mode", ["RGBA", "LA", "La", "RGBa", "PA"])
def test_every_mode_with_alpha_makes_transparency_paper(mode):
    image = transparent_strokes(0).convert("LA").convert("La") if mode == "La" else transparent_strokes(0).convert(mode)
    assert image.mode == mode
    grey = grey_levels(image)
    assert grey[1, 1] == 0 and grey[0, 0] == 255  # dark strokes on transparency: white paper


def test_a_palette_with_a_transparent_colour_makes_it_paper():
    image = Image.new("P", (4, 4), 0)
    image.putpalette([0, 0, 0, 10, 10, 10] + [0] * 762)
    image.paste(1, (1, 1, 3, 3))  # dark strokes (colour 1) on colour 0, which the file marks transparent
    image.info["transparency"] = 0
    grey = grey_levels(image)
    assert grey[1, 1] == 10 and grey[0, 0] == 255
    del image.info["transparency"]
    assert grey_levels(image)[0, 0] == 0  # without the mark, colour 0 is black


def test_strokes_from_mid_grey_up_count_as_light():
    assert grey_levels(transparent_strokes(128))[0, 0] == 0  # light strokes: black paper
    assert grey_levels(transparent_strokes(127))[0, 0] == 255


def test_pil_s_own_decompression_bomb_limits_are_refused_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # PIL warns past this, refuses past twice this
    for side, pixels in ((40, 1600), (50, 2500)):
        path = tmp_path / f"{side}.png"
        Image.new("L", (side, side)).save(path)
        with pytest.raises(ImageError) as e:
            read_image(path)
        assert str(e.value).startswith(f"{path} is too large to read safely (Image size ({pixels} pixels) exceeds limit")


def test_a_rim_exactly_64_levels_from_mid_grey_does_not_say_which_side_is_paper():
    from conae.prepare import ink_is_dark
    page = np.full((60, 60), 191.0)
    page[::2] = 192  # the rim's median: 191.5, 64 levels above mid-grey
    page[20:40, 29:31] = 255  # a light stroke: it strays further from the paper, so it is the ink
    assert not ink_is_dark(page)


def test_noise_on_the_paper_is_taken_out_to_six_of_its_standard_deviations():
    from conae.prepare import ink_of
    noisy = np.full((60, 60), 200.0) + np.random.default_rng(0).normal(0, 4, (60, 60))
    noisy[20:40, 28:32] = 40
    ink, photographed = ink_of(noisy)
    assert photographed and ink[:15].max() == 0 and ink[45:].max() == 0  # not a speck of the paper is ink
    assert ink[20:40, 28:32].min() > 100


def noisy_page(seed=0):
    """A 60 x 60 photographed page: paper at 230 with noise, which makes prepare drop specks."""
    return np.clip(230 + np.random.default_rng(seed).normal(0, 3, (60, 60)), 0, 255)


def test_on_a_photo_a_piece_touching_the_ink_at_a_corner_is_ink_and_a_speck_near_it_is_not():
    page = noisy_page()
    page[20:40, 28:32] = 0  # a bar
    bare = prepare(Image.fromarray(page.astype(np.uint8))).numpy()
    corner = page.copy()
    corner[40, 32] = 0  # one pixel touching the bar's corner: the same piece (pieces join at corners)
    assert not np.array_equal(prepare(Image.fromarray(corner.astype(np.uint8))).numpy(), bare)
    speck = page.copy()
    speck[21, 34] = 0  # a pixel 2 columns from the bar, within its halo: a piece of its own, a speck, dropped
    assert np.array_equal(prepare(Image.fromarray(speck.astype(np.uint8))).numpy(), bare)


def test_the_halo_is_a_tenth_of_the_ink_s_longer_side_rounded_up():
    def faint_mark_counts(side, distance):
        ink = np.zeros((70, 70), np.uint8)
        ink[20:20 + side, 20:20 + side] = 255
        ink[20 + side - 1 + distance, 25] = 20  # a faint mark below the block
        ink[25, 20 + side - 1 + distance] = 20  # and one to its right
        with_marks = prepare(Image.fromarray(ink)).numpy()
        ink[ink == 20] = 0
        return not np.array_equal(with_marks, prepare(Image.fromarray(ink)).numpy())

    assert faint_mark_counts(20, 2) and not faint_mark_counts(20, 3)  # a 20-pixel block: 2 pixels
    assert faint_mark_counts(21, 3) and not faint_mark_counts(21, 4)  # 21: 3


def test_a_ten_pixel_character_is_doubled_and_a_line_keeps_one_row():
    dot = np.zeros((50, 50), np.uint8)
    dot[10:20, 30:40] = 255
    expected = np.zeros((28, 28), np.uint8)
    expected[4:24, 4:24] = 255
    assert np.array_equal(prepare(Image.fromarray(dot)).numpy(), expected)
    line = np.zeros((50, 120), np.uint8)
    line[25, 10:110] = 255  # 100 pixels long, 1 high: scaled to 20 x 1, not to nothing
    prepared = prepare(Image.fromarray(line)).numpy()
    assert (prepared.any(1).sum(), prepared.any(0).sum()) == (1, 20)


def test_scaling_up_is_smooth_not_blocky():
    ink = np.zeros((50, 50), np.uint8)
    ink[10:14, 10:12], ink[10:14, 12:14] = 255, 128  # a 4 x 4 dot, half bright and half mid-grey
    prepared = prepare(Image.fromarray(ink)).numpy()
    row = prepared[14][prepared[14] > 0]
    assert row[0] == 255 and row[-1] == 128 and len(set(row.tolist())) > 3  # a ramp between them, not a step


@pytest.mark.parametrize("corner", ["bottom right", "top left"])
def test_a_character_heavy_in_one_corner_stays_inside_the_field(corner):
    ink = np.zeros((60, 60), np.uint8)
    ink[10, 10] = ink[29, 29] = 255  # the box: 20 x 20, as MNIST's
    heavy = slice(26, 30) if corner == "bottom right" else slice(10, 14)
    ink[heavy, heavy] = 255  # most of the mass in one corner: centring it would push the box out of the field
    prepared = prepare(Image.fromarray(ink)).numpy()
    assert prepared.sum() == ink.sum()  # all of it inside
    edge = 0 if corner == "bottom right" else -1  # against the field's opposite edges
    assert prepared[edge].any() and prepared[:, edge].any()


def test_ink_under_a_shadow_is_brought_to_the_contrast_it_has_in_the_light():
    from conae.prepare import ink_of
    page = np.full((60, 60), 255.0)
    page[:, 30:] = 155  # a shadow over the right half: its paper 100 levels darker
    page[20:40, 10:13] = 0  # a stroke in the light: 255 levels darker than its paper
    page[20:40, 45:48] = 0  # one in the shadow: only 155 darker
    ink, photographed = ink_of(page)
    assert photographed  # a shadow says photo, noise or not
    assert ink[:, :30].max() == 255 and ink[30, 46] == pytest.approx(255, abs=0.01)  # both strokes as in the light
    assert ink[:15].max() == 0 and ink[45:].max() == 0  # the shadow itself is paper


def test_the_least_contrast_that_is_ink_and_the_least_noise_that_makes_a_photo():
    from conae.prepare import MIN_CONTRAST, ink_of
    page = np.full((40, 40), 255.0)
    page[10:30, 18:22] = 255 - MIN_CONTRAST  # exactly the least contrast: ink
    assert ink_of(page)[0].max() == pytest.approx(255)
    scanned = np.full((40, 40), 200.0) + np.random.default_rng(0).normal(0, 0.1, (40, 40))  # paper varying by a
    scanned[10:30, 18:22] = 20  # fraction of a grey level (a float image): noise all the same
    assert ink_of(scanned)[1]


def test_on_a_photo_a_piece_far_fainter_than_the_character_is_dropped_and_a_strong_one_kept():
    from conae.prepare import CLEAR, FAINT_PIECE, clear_ink
    page = noisy_page()
    page[10:50, 10:14] = 0  # the character: 230 levels of contrast
    page[10:50, 40:44] = 230 - 0.3 * 230  # a piece as large, at under FAINT_PIECE of its contrast: a shadow's edge
    assert CLEAR < 0.3 < FAINT_PIECE  # (clear ink on its own, so only the rule for faint pieces drops it)
    ink, clear = clear_ink(Image.fromarray(page.astype(np.uint8)))
    assert ink[10:50, 40:44].max() == 0 and not clear[10:50, 40:44].any()
    assert ink[10:50, 10:14].min() > 0
    page[10:50, 40:44] = 40  # as strong as the character, nearly: a second stroke, kept
    ink, clear = clear_ink(Image.fromarray(page.astype(np.uint8)))
    assert clear[10:50, 40:44].all() and clear[10:50, 10:14].all()
