"""Data for working offline, beside the notebook (the tests, the benchmarks and `make notebooks` use it; the conae
package does not): Debian's full Fashion-MNIST laid out as torchvision expects, and IDX files written from
arrays."""
import gzip
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np

from conae.data import raw_folder

DEBIAN_PACKAGES = {"fashion-mnist": "dataset-fashion-mnist"}  # Debian ships the full Fashion-MNIST


def debian_files(dataset):
    """The four IDX files of the Debian package that ships dataset (found with dpkg -L), or None where there is
    no such package or it is not installed."""
    package = DEBIAN_PACKAGES.get(dataset)
    if not package or not shutil.which("dpkg"):
        return None
    listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
    files = [Path(line) for line in listing.stdout.splitlines() if line.endswith("-ubyte.gz")]
    return files if listing.returncode == 0 and len(files) == 4 else None


def link_debian_files(dataset, root):
    """Makes ROOT/FOLDER/raw hold dataset's files from its Debian package (symbolic links; files already there
    are kept). Returns the folder, or None where the package is not installed."""
    files = debian_files(dataset)
    if files is None:
        return None
    raw = raw_folder(root, dataset)
    raw.mkdir(parents=True, exist_ok=True)
    for f in files:
        if not (raw / f.name).exists():
            (raw / f.name).symlink_to(f)
    return raw


def write_idx(path, array):
    """Writes a uint8 array as an IDX file (gzipped if path ends in .gz)."""
    array = np.asarray(array, dtype=np.uint8)
    data = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    os.makedirs(Path(path).parent, exist_ok=True)
    with (gzip.open if str(path).endswith(".gz") else open)(path, "wb") as f:
        f.write(data)
