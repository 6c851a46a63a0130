"""Preparing a picture from anywhere as MNIST was made: every PIL mode, EXIF orientation, shadows and specks, and
files that must not be read (bombs, truncated, corrupt), each one error naming the file."""
import io

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.ndimage import label

from conae.prepare import MAX_PIXELS, ImageError, deskewed, grey_levels, prepare, read_image
from tests.test_recognise import mnist_digits, similar
from transfer_set import photographed, save_photo


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
    digits = torch.as_tensor(np.asarray(mnist_digits(8)))
    batch = deskewed(digits)
    assert torch.equal(batch[3], deskewed(digits[3]))  # one image or a batch: the same
    assert torch.equal(deskewed(torch.zeros(2, 28, 28, dtype=torch.uint8)), torch.zeros(2, 28, 28, dtype=torch.uint8))
    again = deskewed(batch)
    assert (again.int() - batch.int()).abs().float().mean() < 6  # upright already: moved little a second time
    assert all(abs(slant(d)) < 0.05 for d in batch)
