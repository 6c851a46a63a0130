"""An image file of a character, from anywhere, prepared the way MNIST was made.

Reading: any image PIL opens, in any mode (1-bit, grey, 16- and 32-bit grey, float, palette, RGB, CMYK, with or
without alpha), turned upright as its EXIF orientation tag says (a phone held sideways stores its pixels turned).
Files that declare more than MAX_PIXELS pixels (decompression bombs), truncated or corrupt files are an
ImageError naming the file.

Preparing (LeCun et al.'s recipe for MNIST, behind a step that takes the paper out):
  1. grey levels, the longer side reduced to at most WORK_SIDE pixels (enough for a 20-pixel character);
  2. the ink made the bright part (the paper is light where the page's rim is, or, on a page in part shadow,
     where the strokes stray from their neighbourhood towards black);
  3. the paper taken out: a grey opening wider than a pen stroke removes the ink and keeps the paper's level
     under every pixel, so that a shadow, a gradient or vignetting is paper, not ink; where the paper is even, one
     level serves; under a shadow the ink is brought to the contrast it has in the page's best light;
  4. noise below 6 robust standard deviations of the paper dropped, faint ink stretched to full contrast; on a
     photo, specks and the pieces a shadow's soft edge leaves dropped;
  5. cropped to the clear ink, the longer side scaled to 20 pixels keeping the aspect ratio, placed in 28x28 by
     its centre of mass.
On an image that is already an MNIST digit every step is the identity.

Deskewing (deskewed; for models trained with Config.deskew, on training, test and new images alike): each
28x28 character sheared along its rows so that the slant of its ink (from its second moments) is upright, its
centre of mass at the field's centre. A writer's slant says nothing about the character, so the code need not
spend itself on it.
"""
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy.ndimage import affine_transform, grey_opening, label, maximum, median_filter

from .errors import UserError

BOX = 20          # the longer side of the character, in pixels
FIELD = 28        # the image
MIN_CONTRAST = 8  # grey levels (of 255) between paper and the strongest ink below which an image counts as blank
FAINT = 192       # ink whose strongest pixel is below this is stretched to full contrast
CLEAR = 0.1       # clear ink: at least this fraction of the strongest; its box is scaled to BOX
SPECK = 0.05      # a separate piece of clear ink with less than this fraction of the largest piece's ink is a speck
FAINT_PIECE = 0.5 # ... as is, on a photo, one whose strongest pixel is below this fraction of the strongest piece's
MAX_PIXELS = 50_000_000  # more than any camera's picture of a character: a larger declared size is refused unread
WORK_SIDE = 256   # the preparation works on at most this many pixels along the longer side
PAPER_OPENING = 5 # pixels: the narrowest opening that estimates the paper (wider than an MNIST pen stroke)
UNEVEN = 12       # grey levels: paper whose level varies more than this across the page is taken out block by block
EIGHT_NEIGHBOURS = np.ones((3, 3))  # pieces of ink touching at a corner are one piece


class ImageError(UserError):
    """A file that cannot be recognised: not an image, too large, or one with no ink."""


def read_image(path):
    """The image at path, upright (EXIF orientation applied), as a PIL image; ImageError if it cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ImageError(f"{path} declares {width:,} x {height:,} pixels, more than conae reads "
                                     f"({MAX_PIXELS:,}): not loaded")
                image.load()
                return ImageOps.exif_transpose(image)
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{path} is a folder, not an image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError(f"{path} is too large to read safely ({str(e).splitlines()[0][:80]})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as e:
        if Path(path).is_file() and Path(path).stat().st_size == 0:
            raise ImageError(f"{path} is empty (0 bytes)") from None
        reason = str(e).splitlines()[0].replace(f" '{path}'", "")  # PIL's reason, less the path it repeats
        raise ImageError(f"{path} is not an image PIL can read ({reason[:80]})") from None


def grey_levels(image):
    """A PIL image of any mode -> float array of grey levels in [0, 255]. Deep grey (16- or 32-bit, float) is
    scaled from its own range; transparent pixels become paper: the opposite of the strokes' shade (drawing
    programs often save dark strokes on transparency)."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, np.float64)
        top = values.max() if len(values) else 1
        full = 1.0 if image.mode == "F" and top <= 1 else 255.0 if top <= 255 else 65535.0 if top <= 65535 else top
        return np.maximum(values * 255 / full, 0)  # and at most 255: full is at least the top
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (image.mode == "P" and "transparency" in image.info):
        rgba = (image.convert("LA") if image.mode == "La" else image).convert("RGBA")  # PIL takes La only to LA
        alpha = np.asarray(rgba.getchannel("A"), np.float64) / 255
        grey = np.asarray(rgba.convert("L"))
        strokes = grey[alpha > 0.5]
        paper = 255.0 if not len(strokes) or strokes.mean() < 128 else 0.0
        return alpha * grey + (1 - alpha) * paper
    return np.asarray(image.convert("L"), np.float64)


def reduced(grey, longest=WORK_SIDE):
    """grey with its longer side reduced to at most `longest` pixels (area averaging)."""
    scale = longest / max(grey.shape)
    if scale >= 1:
        return grey
    size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
    return np.asarray(Image.fromarray(grey.astype(np.float32)).resize(size, Image.Resampling.BOX), np.float64)


def rim(image):
    """The pixels around the edge of an image, where the paper is if anywhere."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def stroke_window(grey):
    """Pixels: wider than any pen stroke (a twelfth of the page, at least PAPER_OPENING)."""
    return max(PAPER_OPENING, round(max(grey.shape) / 12))


def ink_is_dark(grey):
    """Whether the ink is darker than the paper. A page whose rim is clearly light or clearly dark says so; on a
    page in part shadow the paper is what the neighbourhood of each pixel mostly is (a median filter wider than a
    stroke, which follows a shadow's edge), and the ink is the side that strays further from it."""
    edge = np.median(rim(grey))
    if abs(edge - 127.5) > 64:
        return edge > 127.5
    strays = grey - median_filter(grey, size=stroke_window(grey), mode="nearest")
    return -np.percentile(strays, 0.5) > np.percentile(strays, 99.5)


def paper_level(bright_ink):
    """The paper's level under each pixel of an image whose ink is the bright part, and the values to read the
    paper's noise from. A grey opening wider than any pen stroke (a twelfth of the page, at least PAPER_OPENING
    pixels) removes the ink and keeps the paper, shadows and gradients included. Where that level varies by at most
    UNEVEN around the rim of the page (where a character rarely is), a single level serves: the border's median."""
    paper = grey_opening(bright_ink, size=(stroke_window(bright_ink),) * 2, mode="nearest")
    if np.ptp(rim(paper)) <= UNEVEN:
        border = rim(bright_ink)
        return np.median(border), border
    return paper, bright_ink - paper  # the paper's noise is read around the taken-out level


def ink_of(grey, name="image"):
    """Grey levels -> (the ink alone, bright on 0, with paper, shadows and noise taken out; whether the page had
    noise or shadows, as a photo or a scan does); ImageError if blank."""
    if ink_is_dark(reduced(grey)):  # make the ink the bright part, as in MNIST (decided at the usual size: a finer grid
        # for several characters, conae.segment, would only make the median filter slower)
        grey = 255 - grey
    paper, around = paper_level(grey)
    centre = np.median(around) if np.isscalar(paper) else 0.0
    noise = 6 * 1.4826 * np.median(np.abs(around - centre))  # 6 robust standard deviations: no speck of paper is ink
    ink = np.clip(grey - paper - noise, 0, None)
    if not np.isscalar(paper):  # under a shadow the ink is as much darker than its paper as in the light, but by
        # fewer grey levels: brought to the contrast it would have in the page's best light (a flat field)
        ink *= (255 - paper.min()) / np.maximum(255 - paper, 1)
    if ink.max() < MIN_CONTRAST:
        raise ImageError(f"{name} has no ink: it is blank (or its strokes are as light as the paper)")
    if ink.max() < FAINT:  # faint ink (a photo, a pencil) gets MNIST's full contrast; strong ink stays as it is
        ink *= 255 / ink.max()
    return ink, bool(noise > 0 or not np.isscalar(paper))


def prepare(image, name="image"):
    """A PIL image -> uint8 tensor [28, 28] prepared as MNIST was: white ink on black, paper and shadows taken out,
    cropped to the ink, the longer side scaled to 20 pixels, centred by its centre of mass. ImageError if it has no
    ink. (conae.segment.characters reads several characters from one image by the same steps.)"""
    return placed(*clear_ink(image, name))


def clear_ink(image, name="image", longest=WORK_SIDE):
    """Steps 1-4 of a PIL image: (the ink on the working grid, bright on 0; the clear ink, at least a tenth of the
    strongest). On a noisy or shadowed page, pieces of clear ink with far less ink than the main one, or whose
    strongest pixel is far weaker than its, are specks or a shadow's edge, not ink, and are dropped (a clean page, MNIST's own, keeps every piece). ImageError if blank.
    longest: the working grid's longer side (reduced)."""
    ink, photographed = ink_of(reduced(grey_levels(image), longest), name)
    clear = ink >= CLEAR * ink.max()
    parts, n = label(clear, structure=EIGHT_NEIGHBOURS)
    if n > 1 and photographed:
        mass = np.bincount(parts.ravel(), weights=ink.ravel())[1:]
        peak = np.asarray(maximum(ink, parts, range(1, n + 1)))
        # specks, and pieces whose ink is all far weaker than the strongest (what a shadow's edge leaves)
        dropped = np.isin(parts, 1 + np.flatnonzero((mass < SPECK * mass.max()) | (peak < FAINT_PIECE * peak.max())))
        ink, clear = np.where(dropped, 0, ink), clear & ~dropped
    return ink, clear


def placed(ink, clear):
    """Step 5: the ink cropped to the box of its clear ink, with the halo around it, the longer side scaled to 20
    pixels, placed in 28x28 by its centre of mass: uint8 tensor [28, 28]."""
    # MNIST scaled the box of the sharp black-and-white NIST originals to 20 pixels: here, the box of the clear ink.
    # The crop adds the halo around it (anti-aliasing, blur) but no specks further away. An MNIST digit (whose
    # clear ink spans 20 pixels in 9,996 of 10,000) is left as it is.
    rows, cols = np.nonzero(clear)
    long_side = max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    halo = -(-long_side // 10)
    window = ink[max(rows.min() - halo, 0):rows.max() + halo + 1, max(cols.min() - halo, 0):cols.max() + halo + 1]
    rows, cols = np.nonzero(window)
    crop = window[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = min(BOX / long_side, FIELD / max(crop.shape))  # the halo must still fit the field
    if scale != 1:
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        # averaging down, smooth up: both weigh the pixels they read by positive weights, so no value leaves [0, 255]
        smooth = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
        crop = np.asarray(Image.fromarray(crop.astype(np.float32)).resize(size, smooth))
    field = np.zeros((FIELD, FIELD))
    mass = crop.sum()
    centre_y = (crop.sum(1) * np.arange(crop.shape[0])).sum() / mass
    centre_x = (crop.sum(0) * np.arange(crop.shape[1])).sum() / mass
    top = int(np.clip(round(FIELD / 2 - centre_y), 0, FIELD - crop.shape[0]))
    left = int(np.clip(round(FIELD / 2 - centre_x), 0, FIELD - crop.shape[1]))
    field[top:top + crop.shape[0], left:left + crop.shape[1]] = crop
    return torch.from_numpy(np.round(field).astype(np.uint8))


def deskewed(images):
    """uint8 images [N, 28, 28] (or one [28, 28]) each sheared upright by its second moments: the row-wise shift
    that makes the covariance of its ink's rows and columns zero, its centre of mass moved to the field's centre
    (bilinear). A blank image stays as it is."""
    batch = torch.as_tensor(images)
    flat = batch.reshape(-1, FIELD, FIELD).numpy().astype(np.float64)
    out = np.empty_like(flat)
    rows, cols = np.mgrid[:FIELD, :FIELD]
    centre = np.full(2, (FIELD - 1) / 2)
    for i, ink in enumerate(flat):
        mass = ink.sum()
        if mass == 0:
            out[i] = ink
            continue
        cy, cx = (rows * ink).sum() / mass, (cols * ink).sum() / mass
        spread = ((rows - cy) ** 2 * ink).sum()
        slant = ((rows - cy) * (cols - cx) * ink).sum() / spread if spread > 0 else 0.0  # ink in one row: upright
        shear = np.array([[1.0, 0.0], [slant, 1.0]])  # output (row, col) -> input (row, col + slant * row)
        out[i] = affine_transform(ink, shear, offset=np.array([cy, cx]) - shear @ centre, order=1)
    return torch.from_numpy(np.clip(np.round(out), 0, 255).astype(np.uint8)).reshape(batch.shape)
