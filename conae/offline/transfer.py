"""Handwriting that is not MNIST's, to measure how a code carries to other writers and pens, and photographed
copies, to measure how the preparation survives real pictures. Beside the notebook, outside the package (the
notebook, the tests and bench/transfer.py use it). Nothing here is ever used to train a model or to choose a
setting: it is only measured on.

- uci_digits(): the 1,797 digits of the UCI "optical recognition of handwritten digits" test set, written by 13
  people who are not MNIST's writers, as scikit-learn ships them (8x8 counts of a 32x32 bitmap: a low-resolution
  scan);
- font_digits(): the digits 0-9 in Debian's handwriting fonts (fonts-dkg-handwriting, fonts-bwht, fonts-klee,
  fonts-humor-sans, ...) where they are installed, at several sizes and pen weights, dark ink on light paper;
- photographed(): a clean image as a phone might have taken it: on a larger page, lit unevenly (a soft-edged cast
  shadow over part of it, light falling off towards the corners), with noise, a little blur and JPEG artefacts;
  save_photo() can store it turned, with an EXIF tag that says how to turn it back;
- drawn_on_paper(): a 28x28 digit redrawn six times larger, off-centre, dark on light;
- written_number(): 28x28 digits written side by side as a number, dark on light (photographed() takes it too).
"""
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# font files of Debian's handwriting packages (fifthhorseman: fonts-dkg-handwriting), found where installed
FONT_FOLDERS = ("/usr/share/fonts/truetype", "/usr/share/fonts/opentype")
HANDWRITING_FONTS = ("fifthhorseman", "bwht", "klee", "humor-sans", "breip", "femkeklaver", "rufscript",
                     "sjfonts")
ORIENTATION = 0x0112  # the EXIF tag


def uci_digits():
    """(images, labels): the 1,797 UCI digits as PIL grey images, white ink on black, 8x8 as scanned, with a
    2-pixel margin of paper (the scans were cropped to the ink)."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = [Image.fromarray(np.pad(np.round(d * 255 / 16), 2).astype(np.uint8)) for d in digits.images]
    return images, digits.target.astype(np.int64)


def handwriting_fonts():
    """Paths of the installed handwriting fonts' files, sorted (empty where none is installed)."""
    found = set()
    for folder in map(Path, FONT_FOLDERS):
        if folder.is_dir():
            found |= {f for f in folder.rglob("*") if f.suffix.lower() in (".ttf", ".otf")
                      and any(name in str(f).lower() for name in HANDWRITING_FONTS)}
    return sorted(found)


def font_digits(sizes=(48, 96), weights=(0, 2), fonts=None):
    """(images, labels, names): each digit in each handwriting font, size and pen weight (PIL's stroke width in
    pixels at size 96, scaled with the size), drawn dark on light paper with a margin."""
    images, labels, names = [], [], []
    for path in fonts if fonts is not None else handwriting_fonts():
        for size in sizes:
            font = ImageFont.truetype(str(path), size)
            for weight in weights:
                stroke = round(weight * size / 96)
                for digit in range(10):
                    page = Image.new("L", (size * 2, size * 2), 245)
                    draw = ImageDraw.Draw(page)
                    box = draw.textbbox((0, 0), str(digit), font=font, stroke_width=stroke)
                    if box[2] <= box[0] or box[3] <= box[1]:
                        continue  # a font without this digit
                    at = (size - (box[0] + box[2]) / 2, size - (box[1] + box[3]) / 2)
                    draw.text(at, str(digit), font=font, fill=20, stroke_width=stroke, stroke_fill=20)
                    images.append(page)
                    labels.append(digit)
                    names.append(f"{Path(path).stem} {size}px weight {weight}")
    return images, np.array(labels, np.int64), names


def as_paper(image):
    """A grey PIL image with the ink dark on light paper (MNIST-style white-on-black images, PIL or arrays, are
    inverted)."""
    image = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image, np.uint8))
    grey = np.asarray(image.convert("L"), np.float64)
    return Image.fromarray((255 - grey).astype(np.uint8)) if np.median(grey) < 128 else image.convert("L")


def photographed(image, seed=0, size=(480, 360)):
    """image (any PIL image, or a uint8 array) as a phone might have photographed it: the ink, dark on light paper, scaled to 35-60% of
    the height of a size[0] x size[1] page at a random place; the page lit unevenly: a soft-edged cast shadow (a
    hand or the phone) over part of it, darkening it to 45-65%, and light falling off towards the corners; a
    slight colour cast, sensor noise, a little blur, JPEG compression. RGB."""
    rng = np.random.default_rng(seed)
    ink = 1 - np.asarray(as_paper(image), np.float64) / 255  # 1 where the pen was
    scale = size[1] * rng.uniform(0.35, 0.6) / max(ink.shape)
    ink = np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize(
        (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale))), Image.Resampling.BILINEAR))
    top, left = int(rng.integers(0, size[1] - ink.shape[0])), int(rng.integers(0, size[0] - ink.shape[1]))
    page = np.zeros((size[1], size[0]))
    page[top:top + ink.shape[0], left:left + ink.shape[1]] = ink.clip(0, 1)
    rows, cols = np.mgrid[0:size[1], 0:size[0]]
    angle, through = rng.uniform(0, 2 * np.pi), rng.uniform(0.2, 0.8, 2) * (size[1], size[0])
    side = (rows - through[0]) * np.sin(angle) + (cols - through[1]) * np.cos(angle)  # signed distance to its edge
    shadow = 1 - rng.uniform(0.35, 0.55) / (1 + np.exp(-side / rng.uniform(8, 30)))
    falloff = 1 - 0.2 * (np.hypot(rows / size[1] - 0.5, cols / size[0] - 0.5) / np.hypot(0.5, 0.5)) ** 2
    grey = (235 - 205 * page) * shadow * falloff + rng.normal(0, 3, page.shape)
    rgb = np.stack([grey, grey * 0.96, grey * 0.88], axis=2).clip(0, 255).astype(np.uint8)
    blurred = Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2)))
    buffer = io.BytesIO()
    blurred.save(buffer, format="JPEG", quality=int(rng.integers(60, 85)))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def save_photo(image, path, turned=False):
    """Saves a photographed() image as a JPEG; turned: stored as a phone held sideways stores it (the pixels
    turned a quarter, with EXIF orientation 6 saying "turn 90 degrees clockwise to show")."""
    exif = Image.Exif()
    if turned:
        image = image.transpose(Image.Transpose.ROTATE_90)  # stored a quarter turn anticlockwise
        exif[ORIENTATION] = 6
    image.save(path, format="JPEG", quality=90, exif=exif.tobytes())
    return path


def drawn_on_paper(digit, seed=0, size=(240, 180)):
    """A 28x28 uint8 digit as a person might have drawn and photographed it, to try recognise() without images of
    your own: six times larger, off-centre on a bigger page, dark ink on light, slightly grey paper (PIL, RGB)."""
    rng = np.random.default_rng(seed)
    big = Image.fromarray(np.asarray(digit, np.uint8)).resize((168, 168), Image.Resampling.BILINEAR)
    page = Image.new("L", size, 0)
    page.paste(big, (int(rng.integers(0, size[0] - 168)), int(rng.integers(0, size[1] - 168))))
    ink = np.asarray(page, np.float64) / 255
    paper = 235 - 20 * ink - ink * 170 + rng.normal(0, 2, ink.shape)  # light paper, dark ink, a little noise
    return Image.fromarray(np.stack([paper, paper * 0.97, paper * 0.9], axis=2).clip(0, 255).astype(np.uint8))


def written_number(digits, seed=0, gap=(0.15, 0.45), scale=3):
    """28x28 uint8 digits (white ink on black, as MNIST's) written side by side as a number: each cropped to its
    ink and enlarged `scale` times, a gap of 15-45% of the tallest digit's height between neighbours, each a little
    up or down; dark ink on white paper with a margin. PIL grey image."""
    rng = np.random.default_rng(seed)
    crops = []
    for digit in digits:
        rows, cols = np.nonzero(np.asarray(digit) > 0)
        crop = Image.fromarray(np.asarray(digit, np.uint8)[rows.min():rows.max() + 1, cols.min():cols.max() + 1])
        crops.append(crop.resize((crop.width * scale, crop.height * scale), Image.Resampling.BILINEAR))
    height = max(c.height for c in crops)
    margin = height // 2
    gaps = [int(rng.uniform(*gap) * height) for _ in crops[1:]]
    shifts = [int(rng.uniform(-0.08, 0.08) * height) for _ in crops]
    page = Image.new("L", (sum(c.width for c in crops) + sum(gaps) + 2 * margin, 2 * height), 0)
    x = margin
    for crop, shift, space in zip(crops, shifts, gaps + [0]):
        page.paste(crop, (x, height // 2 + (height - crop.height) // 2 + shift))
        x += crop.width + space
    return Image.fromarray(255 - np.asarray(page))
