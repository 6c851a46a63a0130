"""Crash-safe file writing: a crash at any point leaves either the old file or the new one, never half of one."""
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
