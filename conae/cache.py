"""Work that depends only on its inputs, kept on disk so that a second run on the same machine reuses it: the
deskewed images of a data set, the prepared images of a folder data set (conae.folder) and the baselines' codes
(UMAP and t-SNE take seconds to tens of seconds, every run, for the same images).

An entry is one .npz file named by a hash of everything its result depends on: the input arrays' bytes, the
settings, the code of the conae module that computes it (conae.environment.code_of: a comment edit keeps it), the versions of the libraries it calls and the machine's
floating point (conae.environment.machine: the CPU and the kernels torch and the math libraries run on it), so a
change to any of them computes it afresh, and a home folder shared by two kinds of machine hands neither the
other's numbers. The folder is $CONAE_CACHE, else $XDG_CACHE_HOME/conae, else
~/.cache/conae; CONAE_CACHE=off turns the cache off. Deleting the folder is always safe."""
import hashlib
import os
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .environment import machine


def cache_dir():
    """The cache's folder, or None when CONAE_CACHE=off."""
    setting = os.environ.get("CONAE_CACHE", "")
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "conae"


def versions(*packages):
    """'numpy 2.3.4, scipy 1.16.2' for the installed packages named (a missing one as 'NAME -')."""
    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return "-"
    return ", ".join(f"{name} {installed(name)}" for name in packages)


def key(parts):
    """A hex digest of parts and this machine's floating point (machine()): arrays by their dtype, shape and bytes,
    everything else by its repr."""
    digest = hashlib.sha256(repr(sorted(machine().items())).encode())
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(f"{part.dtype}{part.shape}".encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:40]


def cached(kind, parts, compute):
    """(compute()'s result, a dict of numpy arrays; whether it came from the cache): from the cache when an
    earlier run stored it for the same parts (everything the result depends on), else computed and stored. A
    cache that cannot be read or written costs only the time: the result is then computed, and kept where it
    can be."""
    folder = cache_dir()
    if folder is None:
        return compute(), False
    path = folder / kind / f"{key(parts)}.npz"
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}, True
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # not there yet, or damaged: computed again
        pass
    result = compute()
    try:
        atomic_write(path, lambda tmp: np.savez(tmp, **result))
    except OSError:
        pass
    return result, False
