"""Crash-safe file writing: a crash at any point leaves either the old file or the new one, never half of one."""
import os
from pathlib import Path


def atomic_write(path, write):
    """Calls write(tmp) on a temporary file beside path, then renames it over path (atomic on one filesystem)."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")  # the suffix kept: writers pick the format by it
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
