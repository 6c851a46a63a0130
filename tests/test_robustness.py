"""Bad input, interruptions and re-runs: one clear line, nothing lost, the same numbers."""
import gzip
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

import conae.train
from conae.checkpoint import CheckpointError, load_checkpoint
from conae.cli import main
from conae.config import make_config
from conae.data import load_data
from conae.offline.files import write_idx
from conae.train import TrainingDiverged, fit
from tests.conftest import REPO, tree, write_split

TINY_RUN = ["--epochs", "3", "--batch-size", "32", "--no-download"]


def train(root, out, *flags):
    return main(["train", "--data-root", str(root), "--out", str(out), *TINY_RUN, *flags])


def assert_one_line_error(capsys, *needles):
    """The last line of stderr (a progress bar may come before it) is the error, with every needle in it."""
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("error: "), last
    for needle in needles:
        assert needle in last, last
    return last


def no_temporary_files(folder):
    return not [p for p in folder.rglob(".*.tmp*")]


def bad_magic(root):
    write_split(root, "t10k", 20, seed=0, gz=False)
    path = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x09\x03" + path.read_bytes()[4:])


def truncated(root):
    write_split(root, "t10k", 20, seed=0, gz=True)
    path = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-100]))


def count_mismatch(root):
    write_idx(root / "MNIST" / "raw" / "t10k-images-idx3-ubyte", np.zeros((5, 28, 28)))
    write_idx(root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte", np.zeros(4))


def not_28x28(root):
    write_idx(root / "MNIST" / "raw" / "t10k-images-idx3-ubyte", np.zeros((3, 20, 20)))
    write_idx(root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte", np.zeros(3))


@pytest.mark.parametrize("make_root, message", [
    (lambda root: root.mkdir(), "no MNIST test files"),
    (bad_magic, "not an MNIST IDX file"),
    (truncated, "truncated or corrupt"),
    (count_mismatch, "has 5 images but"),
    (not_28x28, "expected 28x28"),
    (lambda root: root.write_text("not a folder"), "is a file, not a folder"),
])
def test_bad_data_is_one_line_and_leaves_nothing(tmp_path, capsys, make_root, message):
    root, out = tmp_path / "data", tmp_path / "run"
    make_root(root)
    before = tree(root) if root.is_dir() else root.read_bytes()
    assert train(root, out, "--no-fallback") == 1
    assert_one_line_error(capsys, message)
    assert not out.exists()  # nothing written: the output folder is made only once the data is good
    assert (tree(root) if root.is_dir() else root.read_bytes()) == before


def test_out_that_is_a_file_is_refused_before_training(tiny_root, tmp_path, capsys):
    (tmp_path / "out").write_text("x")
    assert train(tiny_root, tmp_path / "out") == 1
    assert_one_line_error(capsys, "is a file, not a folder")
    assert (tmp_path / "out").read_text() == "x"


def test_out_that_cannot_be_created_is_refused_before_training(tiny_root, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert train(tiny_root, tmp_path / "file" / "out") == 1
    assert_one_line_error(capsys, "is not a writable folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "file"]


def test_divergence_stops_at_once_and_keeps_the_last_good_checkpoint(tiny_root, tmp_path, monkeypatch):
    """Weights poisoned right after the second point is saved: the next stretch must stop, and model.pt keep the
    second point (4 epochs of 10 steps: a point every 4 steps)."""
    train_split, test_split = load_data(tiny_root, download=False)
    real_save, saves = conae.train.save_checkpoint, []

    def save_then_poison(path, model, *args):
        real_save(path, model, *args)
        saves.append(path)
        if len(saves) == 2:
            with torch.no_grad():
                model.decoder[0].weight.fill_(float("nan"))

    monkeypatch.setattr(conae.train, "save_checkpoint", save_then_poison)
    with pytest.raises(TrainingDiverged, match=r"became NaN between step 8 \(epoch 0.8533\) and step 12, "
                                               r"so training stopped.*too high; .*model.pt keeps step 8 \(epoch"):
        fit(make_config(epochs=4, batch_size=32), train_split, test_split, verbose=False,
            checkpoint=tmp_path / "model.pt")
    model, _, history, _ = load_checkpoint(tmp_path / "model.pt")
    assert len(history) == 2 and all(torch.isfinite(p).all() for p in model.parameters())
    assert no_temporary_files(tmp_path)


def test_a_learning_rate_that_blows_up_is_one_line(tiny_root, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(tiny_root, out, "--lr", "3e5", "--epochs", "6") == 1
    err = assert_one_line_error(capsys, "error: the reconstructions became NaN between ", "too high")
    failed_at = int(err.split(" and step ")[1].split(",")[0])  # the point the stretch would have ended at
    saved = load_checkpoint(out / "model.pt")[2][-1]["step"] if (out / "model.pt").exists() else 0
    assert saved == failed_at - 6 and not (out / "metrics.json").exists() and no_temporary_files(out)


def test_a_file_that_is_not_a_checkpoint(tiny_root, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.pt").write_bytes(b"not a checkpoint at all")
    assert train(tiny_root, out, "--resume") == 1
    assert_one_line_error(capsys, "model.pt is not a conae checkpoint")
    torch.save({"weights": torch.zeros(3)}, out / "model.pt")
    assert train(tiny_root, out, "--resume") == 1
    assert_one_line_error(capsys, "is not a conae checkpoint (it has no model, config and history)")
    with pytest.raises(CheckpointError, match="not a conae checkpoint"):
        load_checkpoint(out / "model.pt")
    assert sorted(p.name for p in out.iterdir()) == ["model.pt"]


def test_a_checkpoint_of_another_embedding_dim(tiny_root, tmp_path, capsys, no_figures):
    out = tmp_path / "run"
    assert train(tiny_root, out, "--epochs", "1", "--embedding-dim", "2") == 0
    before = (out / "model.pt").read_bytes()
    assert train(tiny_root, out, "--epochs", "1", "--resume", "--embedding-dim", "3") == 1
    assert_one_line_error(capsys, "trained with embedding_dim 2, not 3")
    with pytest.raises(CheckpointError, match="trained with embedding_dim 2, not 3"):
        load_checkpoint(out / "model.pt", make_config(embedding_dim=3))
    assert (out / "model.pt").read_bytes() == before


def test_resume_without_a_checkpoint(tiny_root, tmp_path, capsys):
    assert train(tiny_root, tmp_path / "run", "--resume") == 1
    assert_one_line_error(capsys, "no checkpoint at")


def without_timings(value):
    """value (metrics.json's dict) without the wall-clock numbers, which differ from run to run, and without
    whether a baseline's codes came from the cache (the second run finds the first's)."""
    timings = {"seconds", "train_seconds", "images_per_second", "seconds_after_training", "setup_seconds",
               "scoring_seconds", "phase_seconds", "from_cache"}
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in timings}
    return [without_timings(v) for v in value] if isinstance(value, list) else value


def numbers(out):
    """metrics.json without its timings, and the weights in model.pt."""
    metrics = without_timings(json.loads((out / "metrics.json").read_text()))
    return metrics, torch.load(out / "model.pt", weights_only=True)["model"]


def assert_same_run(a, b):
    (metrics_a, weights_a), (metrics_b, weights_b) = numbers(a), numbers(b)
    assert metrics_a == metrics_b
    assert weights_a.keys() == weights_b.keys() and all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)


@pytest.mark.slow
@pytest.mark.parametrize("preset, optimizer", [("default", torch.optim.AdamW), ("original", torch.optim.Adam)])
def test_interrupted_and_resumed_is_bitwise_the_uninterrupted_run(tiny_root, tmp_path, capsys, monkeypatch, no_figures,
                                                                  preset, optimizer):
    # the original's recipe resumes too: Adam with its L2 term, a constant rate (no schedule), images as they come
    # (tests/test_neighbours.py resumes the neighbours preset)
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert train(tiny_root, whole, "--preset", preset) == 0
    real_step, steps = optimizer.step, []

    def step_then_interrupt(self, *args, **kwargs):
        steps.append(1)
        if len(steps) == 14:  # 3 epochs of 10 steps, a point every 3: between steps 12 and 15
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(optimizer, "step", step_then_interrupt)
    assert train(tiny_root, parts, "--preset", preset) == 130
    err = capsys.readouterr().err
    assert "interrupted (SIGINT)" in err and "model.pt keeps step 12 (epoch 1.2133)" in err and "--resume" in err
    assert sorted(p.name for p in parts.iterdir()) == ["model.pt"]
    assert load_checkpoint(parts / "model.pt")[2][-1]["step"] == 12  # mid-epoch: the batch order is resumed too

    monkeypatch.setattr(optimizer, "step", real_step)
    assert main(["train", "--out", str(parts), "--resume"]) == 0  # data root and settings from the checkpoint
    assert_same_run(whole, parts)


@pytest.mark.slow
def test_sigterm_mid_run_keeps_the_last_epoch_and_resumes_identically(tiny_root, tmp_path, no_figures):
    out, whole = tmp_path / "run", tmp_path / "whole"
    flags = ["--data-root", str(tiny_root), "--epochs", "6", "--batch-size", "32", "--no-download"]
    run = subprocess.Popen([sys.executable, "-m", "conae", "train", "--out", str(out), *flags], cwd=REPO,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "model.pt").exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 128 + signal.SIGTERM, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted (SIGTERM): ") and "Traceback" not in err
    saved = load_checkpoint(out / "model.pt")[2][-1]
    assert 0 < saved["epoch"] < 6 and f"keeps step {saved['step']} (epoch {saved['epoch']:g});" in last
    assert no_temporary_files(out) and not (out / "metrics.json").exists()

    assert main(["train", "--out", str(out), "--resume"]) == 0
    assert main(["train", "--out", str(whole), *flags]) == 0
    assert_same_run(whole, out)


@pytest.mark.slow
def test_resume_refuses_to_change_the_run(tiny_root, tmp_path, capsys, no_figures):
    out = tmp_path / "run"
    assert train(tiny_root, out, "--epochs", "1") == 0
    assert train(tiny_root, out, "--resume", "--epochs", "5") == 1
    assert_one_line_error(capsys, "trained with epochs 1, not 5", "drop --epochs")
    os.remove(out / "metrics.json")
    assert train(tiny_root, out, "--resume", "--epochs", "1") == 0  # already complete: just the outputs again
    assert (out / "metrics.json").exists()
