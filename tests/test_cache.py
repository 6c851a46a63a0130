"""conae.cache: a second run reuses what the first computed, and only for exactly the same inputs."""
import numpy as np
import pytest
import torch

from conae.baselines import run_baseline
from conae.cache import cache_dir, cached
from conae.data import Split, deskewed_once
from conae.prepare import deskewed

from .conftest import synthetic_digits


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CONAE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_same_inputs_are_computed_once_and_other_inputs_afresh(cache):
    images = np.arange(12, dtype=np.uint8).reshape(3, 4)
    first, hit = cached("kind", (images, "settings"), lambda: dict(out=images * 2))
    assert not hit and len(list((cache / "kind").glob("*.npz"))) == 1
    again, hit = cached("kind", (images.copy(), "settings"), lambda: pytest.fail("computed again"))
    assert hit and np.array_equal(again["out"], first["out"])
    for other in ((images + 1, "settings"), (images, "other settings"), (images.astype(np.int16), "settings")):
        assert not cached("kind", other, lambda: dict(out=images))[1]


@pytest.mark.parametrize("part, other", [("cpu_capability", "AVX2"), ("cpu_id", {"family": "23"}),
                                         ("math_libraries", {"oneDNN": "0.1", "MKL": None})])
def test_another_kind_of_cpu_sharing_the_folder_computes_afresh(cache, monkeypatch, part, other):
    import conae.cache
    from conae.environment import machine
    images = np.arange(4, dtype=np.uint8)
    cached("kind", (images,), lambda: dict(out=images))
    monkeypatch.setattr(conae.cache, "machine", lambda: {**machine(), part: other})  # AVX2 kernels, another CPU...
    assert cached("kind", (images,), lambda: dict(out=images + 1))[1] is False  # not the other machine's numbers
    assert len(list((cache / "kind").glob("*.npz"))) == 2


def test_a_damaged_entry_is_computed_again_and_an_unwritable_cache_costs_only_time(cache, tmp_path, monkeypatch):
    images = np.zeros((2, 2), np.uint8)
    cached("kind", (images,), lambda: dict(out=images))
    entry = next((cache / "kind").glob("*.npz"))
    entry.write_bytes(b"half a file")
    assert cached("kind", (images,), lambda: dict(out=images + 1))[1] is False
    assert cached("kind", (images,), lambda: pytest.fail("computed again"))[0]["out"].max() == 1  # rewritten
    (tmp_path / "a file").write_text("")
    monkeypatch.setenv("CONAE_CACHE", str(tmp_path / "a file"))  # a folder cannot be made there
    assert cached("kind", (images,), lambda: dict(out=images))[1] is False


def test_off_computes_every_time_and_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("CONAE_CACHE", "off")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() is None
    calls = []
    for _ in range(2):
        cached("kind", ("x",), lambda: calls.append(1) or dict(out=np.zeros(1)))
    assert len(calls) == 2 and not list(tmp_path.iterdir())


def test_by_default_the_cache_is_the_users(monkeypatch, tmp_path):
    monkeypatch.delenv("CONAE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "conae"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "conae"


def test_deskewed_images_from_the_cache_are_bitwise_the_deskewed_ones(cache):
    images = torch.from_numpy(synthetic_digits(20)[0])
    assert torch.equal(deskewed_once(images), deskewed(images))
    assert torch.equal(deskewed_once(images), deskewed(images))  # now from the cache
    assert len(list((cache / "deskewed").glob("*.npz"))) == 1


def test_a_baseline_from_the_cache_gives_the_same_numbers_and_says_so(cache):
    images, labels = (torch.from_numpy(a) for a in synthetic_digits(120))
    train, test = Split(images[:80], labels[:80], "train"), Split(images[80:], labels[80:], "test")
    first = run_baseline("pca", train, test, 3)
    again = run_baseline("pca", train, test, 3)
    assert not first.pop("from_cache") and again.pop("from_cache")
    assert again == first  # the seconds too: those of the run that computed the codes
    other = Split(images[:79], labels[:79], "train")
    assert not run_baseline("pca", other, test, 3)["from_cache"]
