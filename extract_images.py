"""Writes every PNG output of an executed notebook into a folder, for the README.

    python extract_images.py [NOTEBOOK] [OUT_DIR]      (defaults: ConAE.ipynb outputs/)

A figure is named after its cell: the cell's metadata "figure" (or a tag "figure:NAME"), with _2, _3...
when the cell shows more than one image; a PNG from an unnamed cell is output_N.png, N counting
every PNG in the notebook in order.

OUT_DIR/.extract_images.json lists what this script wrote (name and SHA-256): a PNG it wrote before that the
notebook no longer produces is removed, so the README never shows a stale figure; a file it did not write,
or one changed since, is never touched.
"""
import base64
import hashlib
import json
import sys
from pathlib import Path

import nbformat

from conae.atomic import atomic_write

MANIFEST = ".extract_images.json"


def figure_name(cell):
    name = cell.get("metadata", {}).get("figure")
    tags = [t.split(":", 1)[1] for t in cell.get("metadata", {}).get("tags", []) if t.startswith("figure:")]
    return name or (tags[0] if tags else None)


def png_outputs(nb):
    """(file name, PNG bytes) for every PNG output of nb, in order."""
    found, count = [], 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        name, in_cell = figure_name(cell), 0
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png is None:
                continue
            count, in_cell = count + 1, in_cell + 1
            stem = f"{name}_{in_cell}" if name and in_cell > 1 else name or f"output_{count}"
            found.append((f"{stem}.png", base64.b64decode(png)))
    return found


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 2 or any(a in ("-h", "--help") for a in args):
        print(__doc__.strip())
        return 0 if args and args[0] in ("-h", "--help") else 2
    notebook = Path(args[0] if args else "ConAE.ipynb")
    out_dir = Path(args[1] if len(args) > 1 else "outputs")
    try:
        nb = nbformat.read(notebook, as_version=4)
    except FileNotFoundError:
        return fail(f"notebook not found: {notebook}")
    except (json.JSONDecodeError, nbformat.reader.NotJSONError, UnicodeDecodeError) as e:
        return fail(f"{notebook} is not a valid notebook (not JSON: {str(e).splitlines()[0][:120]})")
    except Exception as e:  # nbformat raises a variety of errors for other malformed notebooks
        return fail(f"{notebook} is not a valid notebook: {str(e).splitlines()[0][:160]}")
    images = png_outputs(nb)
    if not images:
        return fail(f"{notebook} has no PNG outputs; execute it first: "
                    f"jupyter nbconvert --to notebook --execute --inplace {notebook}")
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = read_manifest(out_dir)
    for name, data in images:
        atomic_write(out_dir / name, lambda tmp, data=data: tmp.write_bytes(data))
    written = {name: sha256(data) for name, data in images}
    manifest = json.dumps({"files": written}, indent=2, sort_keys=True) + "\n"
    atomic_write(out_dir / MANIFEST, lambda tmp: tmp.write_text(manifest))
    removed = remove_stale(out_dir, previous, written)
    print(f"wrote {len(images)} figures to {out_dir}/: {', '.join(name for name, _ in images)}"
          + (f"; removed stale {', '.join(removed)}" if removed else ""))
    return 0


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def read_manifest(out_dir):
    """{name: sha256} of the PNGs the last run wrote into out_dir ({} if none or unreadable)."""
    try:
        files = json.loads((out_dir / MANIFEST).read_text())["files"]
        return {name: digest for name, digest in files.items() if Path(name).name == name}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def remove_stale(out_dir, previous, written):
    """Removes the PNGs of an earlier run that this run did not write, if they are still as written then."""
    removed = []
    for name, digest in sorted(previous.items()):
        path = out_dir / name
        if name not in written and path.is_file() and sha256(path.read_bytes()) == digest:
            path.unlink()
            removed.append(name)
    return removed


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
