"""Character sets that are not digits, rendered from the fonts this machine has, written as folders of images in
torchvision's ImageFolder layout (OUT/train/CLASS/*.png and OUT/test/CLASS/*.png), to show `--dataset folder:PATH`
on real characters offline. Beside the notebook, outside the package: bench/folder_sets.py measures on them.

- letters: the 26 capital letters A-Z, in every font family installed that has them: handwriting-like ones
  (Debian's fonts-dkg-handwriting, fonts-bwht, fonts-klee, fonts-humor-sans, fonts-comic-neue, the URW chancery,
  ...) and ordinary ones (DejaVu, Liberation, FreeFont, URW base 35, TeX Gyre, ...);
- devanagari: the Devanagari digits 0-9 (the folders are named by their values), in the fonts that have them
  (Debian's fonts-deva, fonts-freefont-ttf).

Each character of each font file is written several times with the moves a pen makes: its size, its weight (a stroke
around the glyph), its slant and its place on the page, dark ink on light paper. A third of the font designs (the
same ones on every machine: by a hash of their names; a design's weights, widths and metric clones are one design)
are held out: test/ holds only designs that train/ never saw. Fonts are a stand-in for handwriting: a font is one
writer who never varies, so held-out fonts measure how a code carries to new styles, not to new hands.

    python -m conae.offline.characters letters data/letters      # then: conae train --dataset folder:data/letters
    python -m conae.offline.characters devanagari data/devanagari
"""
import argparse
import hashlib
import string
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SETS = {  # name: (the characters drawn, their folders' names)
    "letters": (string.ascii_uppercase, string.ascii_uppercase),
    "devanagari": ("".join(chr(0x0966 + d) for d in range(10)), string.digits),
}
VARIANTS = {"letters": 4, "devanagari": 24}  # pages per character and font file
STYLES_PER_FAMILY = 2  # font files of one family (regular, bold, ...): a family is one style, not many
NOT_LETTERS = ("symbol", "dingbat", "d050000l", "math", "emoji", "ornament", "keyboard", "initials")  # fonts that
# map letters to other signs, or draw them in boxes and flourishes
# families that are one design under several names (the metric clones of the PostScript fonts): one design each, so
# that no design is both trained on and tested on
CLONES = {
    "helvetica": ("nimbus sans", "texgyreheros", "tex gyre heros", "freesans", "liberation sans"),
    "times": ("nimbus roman", "texgyretermes", "tex gyre termes", "freeserif", "liberation serif"),
    "courier": ("nimbus mono", "texgyrecursor", "tex gyre cursor", "freemono", "liberation mono"),
    "palatino": ("p052", "texgyrepagella", "tex gyre pagella"),
    "bookman": ("urw bookman", "texgyrebonum", "tex gyre bonum"),
    "century schoolbook": ("c059", "texgyreschola", "tex gyre schola"),
    "avant garde": ("urw gothic", "texgyreadventor", "tex gyre adventor"),
    "zapf chancery": ("z003", "texgyrechorus", "tex gyre chorus"),
}


def font_families(characters):
    """{family: [font files]} of the installed fonts (matplotlib's search of the system's folders) whose character
    maps hold every one of characters, at most STYLES_PER_FAMILY files each, sorted."""
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager

    families = {}
    for path in sorted(font_manager.findSystemFonts()):
        if Path(path).suffix.lower() not in (".ttf", ".otf"):
            continue
        try:
            font = TTFont(path, fontNumber=0, lazy=True)
            family, cmap = font["name"].getDebugName(1) or Path(path).stem, font.getBestCmap() or {}
        except Exception:  # a file fontTools cannot read is not a font to use
            continue
        if all(ord(c) in cmap for c in characters) and not any(w in family.lower() for w in NOT_LETTERS):
            families.setdefault(family, []).append(path)
    return {family: files[:STYLES_PER_FAMILY] for family, files in sorted(families.items())}


def design(family):
    """The design a family belongs to: its clone group, else its name less weights and widths ("Open Sans Light"
    and "Open Sans" are one design; each of Debian's "Because We ..." fonts is one person's hand)."""
    name = family.lower()
    for group, names in CLONES.items():
        if name.startswith(names):
            return group
    words = [w for w in name.split() if w not in ("light", "thin", "bold", "extra", "extrabold", "semibold",
                                                   "condensed", "narrow", "display", "mono", "o", "cn")]
    return " ".join(words[:3] if name.startswith("because we") else words[:2])


def held_out(families):
    """The designs whose fonts go to test/: a third of them (every third in the order of a hash of their names)."""
    designs = sorted({design(family) for family in families}, key=lambda d: hashlib.sha256(d.encode()).hexdigest())
    return set(designs[::3])


def page(character, font_file, rng):
    """One character in one font, as a pen might have written it: a random size, weight, slant and place, dark on
    light paper."""
    size = int(rng.integers(40, 97))
    font = ImageFont.truetype(font_file, size)
    stroke = int(rng.integers(0, 3)) * size // 48
    side = 2 * size
    image = Image.new("L", (side, side), int(rng.integers(225, 250)))
    draw = ImageDraw.Draw(image)
    box = draw.textbbox((0, 0), character, font=font, stroke_width=stroke)
    offset = rng.uniform(-0.12, 0.12, 2) * side
    at = (side / 2 - (box[0] + box[2]) / 2 + offset[0], side / 2 - (box[1] + box[3]) / 2 + offset[1])
    ink = int(rng.integers(10, 60))
    draw.text(at, character, font=font, fill=ink, stroke_width=stroke, stroke_fill=ink)
    slant = rng.uniform(-0.3, 0.3)  # x' = x + slant * (y - centre): a hand leaning left or right
    return image.transform(image.size, Image.Transform.AFFINE, (1, slant, -slant * side / 2, 0, 1, 0),
                           resample=Image.Resampling.BILINEAR, fillcolor=image.getpixel((0, 0)))


def write_set(name, out):
    """Writes set `name` (a key of SETS) under out; returns {"train": [families], "test": [families]} and the
    number of images written."""
    characters, folders = SETS[name]
    families = font_families(characters)
    if len(families) < 2:
        raise SystemExit(f"{name}: {len(families)} font families here have all of {characters}: install fonts "
                         "(README's Debian packages)")
    split, written, tested = {"train": [], "test": []}, 0, held_out(families)
    for family, files in families.items():
        part = "test" if design(family) in tested else "train"
        split[part].append(family)
        for f, font_file in enumerate(files):
            for character, folder in zip(characters, folders):
                rng = np.random.default_rng(int(hashlib.sha256(f"{family} {f} {folder}".encode()).hexdigest(), 16)
                                            % 2 ** 32)
                target = Path(out) / part / folder
                target.mkdir(parents=True, exist_ok=True)
                for v in range(VARIANTS[name]):
                    page(character, font_file, rng).save(target / f"{family.replace(' ', '_')}-{f}-{v}.png")
                    written += 1
    return split, written


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set", choices=sorted(SETS))
    parser.add_argument("out", help="the folder to write (OUT/train/CLASS/*.png, OUT/test/CLASS/*.png)")
    args = parser.parse_args()
    split, written = write_set(args.set, args.out)
    print(f"wrote {written:,} images of {len(SETS[args.set][0])} characters to {args.out}")
    for part, families in split.items():
        print(f"{part}: {len(families)} font families: {', '.join(families)}")


if __name__ == "__main__":
    main()
