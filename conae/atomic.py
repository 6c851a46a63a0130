"""Crash-safe file writing: a crash at any point leaves either the old file or the new one, never half of one.
Every file conae writes goes through atomic_write: JSON (write_json), figures (save_figure), checkpoints, caches."""
import json
import os
import uuid
from pathlib import Path


def atomic_write(path, write):
    """Calls write(tmp) on a temporary file beside path (its folder made first where it is missing), then renames it
    over path (atomic on one filesystem)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own (several writers may share a folder, even across machines); the suffix kept: writers pick
    # the format by it
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path, obj):
    """obj as indented JSON at path (a value JSON cannot hold fails before the old file is touched)."""
    text = json.dumps(obj, indent=2) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text))


def save_figure(path, fig):
    """A matplotlib figure as a PNG at path, then closed (so that a run drawing many keeps one in memory)."""
    import matplotlib.pyplot as plt  # imported here: writing JSON must not load matplotlib

    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight"))
    plt.close(fig)
