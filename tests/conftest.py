"""Shared fixtures: tiny synthetic MNIST written as real IDX files in torchvision's layout."""
import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")  # tests draw figures without a screen

from conae.offline.files import write_idx  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# the official MNIST test set, beside the checkout (CONAE_SHARED_DATA: elsewhere, e.g. for a copy of the checkout
# that the mutation tester runs in)
SHARED_DATA = Path(os.environ.get("CONAE_SHARED_DATA") or REPO.parent / "shared" / "data")
FIGURES = ["samples", "training_curve", "training_progress", "latent_space", "reconstructions", "knn_curve",
           "confusion_matrix", "pca_comparison", "decoder_map", "interpolations"]


def synthetic_digits(n, seed=0):
    """n 28x28 'digits': a bright bar whose height on the image encodes the class, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    images = rng.integers(0, 30, (n, 28, 28), dtype=np.uint8)
    for image, label in zip(images, labels):
        top = 2 + 2 * label + rng.integers(0, 2)
        image[top:top + 4, 4:24] = rng.integers(180, 256)
    return images, labels.astype(np.uint8)


def write_split(root, prefix, n, seed, gz, folder="MNIST"):
    images, labels = synthetic_digits(n, seed)
    ext = ".gz" if gz else ""
    raw = Path(root) / folder / "raw"
    write_idx(raw / f"{prefix}-images-idx3-ubyte{ext}", images)
    write_idx(raw / f"{prefix}-labels-idx1-ubyte{ext}", labels)
    return images, labels


@pytest.fixture(autouse=True, scope="session")
def session_cache(tmp_path_factory):
    """conae.cache's folder for this session, shared by its tests and the processes they start; never the user's."""
    os.environ["CONAE_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@contextlib.contextmanager
def figures_off():
    """Within it, `conae train` in this process draws no figures: for tests of resuming and of numbers, where
    drawing eleven figures per run would be most of the test's time (tests/test_cli.py checks the figures)."""
    import conae.report
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conae.report, "make_figures", lambda *args, **kwargs: {})
        yield


@pytest.fixture
def no_figures():
    """figures_off() for one test."""
    with figures_off():
        yield


def write_tiny_root(root):
    """root as a data root with 300 train images (gzipped) and 100 test images (plain), like torchvision's."""
    write_split(root, "train", 300, seed=1, gz=True)
    write_split(root, "t10k", 100, seed=2, gz=False)
    return root


@pytest.fixture
def tiny_root(tmp_path):
    """write_tiny_root for one test."""
    return write_tiny_root(tmp_path / "data")


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    """(train, test) Splits of 60 and 40 tiny synthetic digits, loaded through conae."""
    from conae.data import load_data
    root = tmp_path_factory.mktemp("splits")
    write_split(root, "train", 60, seed=1, gz=True)
    write_split(root, "t10k", 40, seed=2, gz=True)
    return load_data(root, download=False)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """conae built by pip as a wheel (offline: setuptools from the lock), once a session."""
    folder = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                            str(folder), str(REPO)], capture_output=True, text=True)
    if built.returncode and "No module named" in built.stderr and "setuptools" in built.stderr:
        pytest.skip("setuptools is not installed in this environment, so the wheel cannot be built offline")
    assert built.returncode == 0, built.stderr[-1000:]
    return next(folder.glob("conae-*.whl"))


@pytest.fixture(scope="session")
def installed_conae(wheel, tmp_path_factory):
    """A folder into which pip installed that wheel (its dependencies are this environment's): the package as a
    user gets it, away from the checkout."""
    folder = tmp_path_factory.mktemp("installed")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(folder),
                    str(wheel)], check=True, capture_output=True)
    return folder


@pytest.fixture(scope="session")
def reexecuted_notebook(tmp_path_factory):
    """(the executed notebook, its output folder): the committed notebook executed again with its own parameters,
    only its output folder moved; about 3 minutes, so run once for every test that reads it."""
    from tests.test_notebook import run
    folder = tmp_path_factory.mktemp("notebook")
    return run(folder), folder / "out"


@pytest.fixture
def shared_copy(tmp_path):
    """A writable copy of ../shared/data (the official 10k MNIST test set)."""
    if not (SHARED_DATA / "MNIST" / "raw").is_dir():
        pytest.skip(f"real MNIST test set not found at {SHARED_DATA}")
    return Path(shutil.copytree(SHARED_DATA, tmp_path / "shared_data"))


def tree(root):
    """Every path under root with its size: to prove a data root was left untouched."""
    root = Path(root)
    return {str(p.relative_to(root)): p.stat().st_size if p.is_file() else None for p in root.rglob("*")}
