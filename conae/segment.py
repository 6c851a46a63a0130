"""Several characters in one picture (a number written on paper, a word): the ink found as conae.prepare finds it
(steps 1-4: grey, the paper and its shadows taken out, specks and a shadow's edges dropped), split into characters, each then placed
in 28x28 by prepare's step 5, as a picture of that character alone would be.

The split: each connected piece of clear ink (scipy.ndimage.label) is a piece of a character; pieces that overlap
in columns by at least OVERLAP of the narrower one are one character (the dot of an i, a 5 whose bar came loose
above it). A part much lower than the line (FRAGMENT of its height) or with less than SPECK of the heaviest
part's ink is a fragment, not a character: it joins the nearest character within REACH (a bar beside a 5's body)
or, further away, is stray ink and read as none (a dot, a speck). (On a photo, conae.prepare has already dropped
the pieces a shadow's edge leaves.) Characters are read left to right. Each pixel of
ink, the faint halo too, belongs to the character (or the stray ink) whose clear ink is nearest.

Refused, with one line (an ImageError), rather than read as a wrong count: characters that touch (one piece much
wider than the line is high, or, alone, a quarter wider than the model's widest training character), more than MAX_PARTS
pieces, and no ink at all.
"""
import numpy as np
from scipy.ndimage import distance_transform_edt, find_objects, label
from scipy.sparse.csgraph import connected_components

from .prepare import EIGHT_NEIGHBOURS, SPECK, WORK_SIDE, ImageError, clear_ink, placed

MAX_PARTS = 40      # separate pieces of ink: more is a page of text, a drawing or noise, not a number or a word
OVERLAP = 0.5       # of the narrower piece's width: pieces overlapping more in columns are one character
CLOSE = 0.1         # of the tallest piece's height: pieces with a smaller gap between their columns are one character
FRAGMENT = 0.5      # of the line's height: a piece lower than this is part of a character (a loose bar, a dot)
REACH = 0.5         # of the line's height: a part further from every character than this is stray ink, read as none
TOUCHING = 1.5      # a character wider than this many times the line's height is two or more that touch
MARGIN = 1.25       # ... or, alone in the picture, than a quarter more than the widest training character
TOUCHING_ALONE = 2  # ... or, alone in the picture, than its own height, where the model's widest character is not
                    # known (widest() says it: no MNIST digit is wider than 2)
STRONG = 0.5        # of an image's strongest pixel: the ink whose box widest() measures
LINE = 40           # pixels: a line of characters less high than this on the working grid is read again on a finer
                    # one (up to the image's own pixels), so that each character has more pixels than its 20x20 box


def characters(image, name="image", widest=TOUCHING_ALONE):
    """A PIL image -> [(box, uint8 tensor [28, 28])], its characters left to right, each box (x, y, width,
    height) in the image's own pixels. One character gives what conae.prepare.prepare gives (unless its pieces are
    so small on prepare's working grid that they are read on a finer one, as several small characters are).
    ImageError for an image with no ink, with characters that touch, or with more than MAX_PARTS pieces. widest:
    the width / height beyond which ink alone in the picture is taken for characters that touch (the model's
    widest character)."""
    longest = WORK_SIDE
    ink, clear = clear_ink(image, name, longest)
    parts, n = label(clear, structure=EIGHT_NEIGHBOURS)
    if n > 1 and max(image.size) > longest:
        line = np.median([s[0].stop - s[0].start for s in find_objects(parts)])
        if line < LINE:  # several small characters: look closer
            longest = min(max(image.size), int(np.ceil(longest * LINE / line)))
            ink, clear = clear_ink(image, name, longest)
            parts, n = label(clear, structure=EIGHT_NEIGHBOURS)
    if n > MAX_PARTS:
        raise ImageError(f"{name} has {n} separate pieces of ink, more than conae reads as characters "
                         f"({MAX_PARTS}): write fewer characters, or take out what is not one")
    group = character_of_piece(find_objects(parts), np.bincount(parts.ravel(), weights=ink.ravel())[1:])
    groups = np.concatenate([[0], group])[parts]  # the character (1, 2, ...) of each clear pixel, 0 elsewhere
    check_not_touching(groups, name, widest)
    # every pixel of ink goes with the nearest clear pixel's character (or none, for stray ink): the halo stays with
    # its own strokes
    nearest = distance_transform_edt(~clear, return_distances=False, return_indices=True)
    owner = groups[tuple(nearest)]
    scale = max(1.0, max(image.size) / longest)  # the working grid's pixel in the image's (conae.prepare.reduced)
    found = []
    for g in range(1, groups.max() + 1):
        rows, cols = np.nonzero(groups == g)
        box = (cols.min(), rows.min(), cols.max() + 1 - cols.min(), rows.max() + 1 - rows.min())
        found.append(([int(round(v * scale)) for v in box], placed(np.where(owner == g, ink, 0), groups == g)))
    return found


def character_of_piece(slices, mass):
    """The character (1, 2, ... left to right; 0: stray ink, read as none) each piece belongs to, from the pieces'
    slices and ink."""
    top, bottom = np.array([s[0].start for s in slices]), np.array([s[0].stop for s in slices])
    left, right = np.array([s[1].start for s in slices]), np.array([s[1].stop for s in slices])
    overlap = np.minimum(right[:, None], right[None]) - np.maximum(left[:, None], left[None])
    narrower = np.minimum((right - left)[:, None], (right - left)[None])
    tallest = (bottom - top).max()
    # pieces that overlap in columns by half the narrower, or nearly touch (a pen that skipped), are one character;
    # a small overlap is not (neighbours in a slanted hand overlap a little)
    n, group = connected_components((overlap >= OVERLAP * narrower) | ((overlap > -CLOSE * tallest) & (overlap <= 0)),
                                    directed=False)
    spans = [(left[group == g].min(), right[group == g].max(), top[group == g].min(), bottom[group == g].max())
             for g in range(n)]
    height = np.array([b - t for _, _, t, b in spans])
    weight = np.bincount(group, weights=mass, minlength=n)
    line = np.median(height[height >= height.max() / 2])
    # a piece much lower than the line, or with little ink, is part of a character, not one: a loose bar, a dot
    fragment = (height < FRAGMENT * line) | (weight < SPECK * weight.max())
    whole = np.flatnonzero(~fragment)
    target = {}
    for g in np.flatnonzero(fragment):  # joins the nearest character within reach, or is stray ink
        gaps = [max(spans[w][0] - spans[g][1], spans[g][0] - spans[w][1], 0) for w in whole]
        target[g] = whole[np.argmin(gaps)] if min(gaps) <= REACH * line else -1
    group = np.array([target.get(g, g) for g in group])
    order = {g: i + 1 for i, g in enumerate(sorted(whole, key=lambda g: spans[g][0]))}
    return np.array([order.get(g, 0) for g in group])


def widest(images):
    """The widest character among uint8 images [N, 28, 28], as they were prepared: the largest width / height of
    the boxes of their strong ink (at least STRONG of each image's strongest pixel: a faint background, as some
    character sets have, is no part of the character's shape); infinite for a set with characters as flat as a dash."""
    images = np.asarray(images, np.float64)
    clear = images >= STRONG * images.max(axis=(1, 2), keepdims=True).clip(1e-9)
    spans = []
    for axis in (1, 2):  # columns, then rows
        seen = clear.any(axis=axis)
        spans.append(seen.shape[1] - seen[:, ::-1].argmax(1) - seen.argmax(1))
    # ink at most 2 pixels high says only that the character is at least that wide (a dash, a bar): no width is
    # then too wide for one character
    return float(np.where(spans[1] <= 2, np.inf, spans[0] / np.maximum(spans[1], 1)).max())


def check_not_touching(groups, name, widest=TOUCHING_ALONE):
    """ImageError where a character is too wide to be one: characters that touch cannot be told apart."""
    boxes = find_objects(groups)
    heights = np.array([s[0].stop - s[0].start for s in boxes])
    widths = np.array([s[1].stop - s[1].start for s in boxes])
    line = np.median(heights)
    limit = TOUCHING * line if len(boxes) > 1 else max(MARGIN * widest, TOUCHING) * line
    if (widths > limit).any():
        where = "one of its characters is" if len(boxes) > 1 else "its ink is"
        raise ImageError(f"{name}: {where} {widths.max() / line:.1f} times as wide as the line is high, so "
                         f"characters seem to touch; conae cannot split them: leave a gap between characters")
