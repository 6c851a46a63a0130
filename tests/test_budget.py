"""The training budget in optimizer steps: its arithmetic, the recorded points, resume under it, precision."""
import json

import pytest
import torch

import conae.device
from conae.config import ConfigError, make_config
from conae.data import load_data
from conae.device import resolve_precision
from conae.train import Progress, budget, fit, record_points
from conae.cli import main
from tests.test_robustness import assert_same_run


def train(root, out, *flags):
    return main(["train", "--data-root", str(root), "--out", str(out), "--batch-size", "32", "--no-download", *flags])


def test_a_budget_in_steps_takes_the_same_steps_whatever_the_data_size():
    cfg = make_config("default")
    assert cfg.epochs == 0 and cfg.steps == 3555
    # 5,000 images: 45 epochs, as the recipe was tuned; 60,000: 3.8 epochs; a point every 355 steps either way,
    # 11 points in all (one test-set pass each, whatever the data size)
    assert budget(cfg, 5000) == budget(cfg, 4000) == budget(cfg, 60000) == (3555, 355)
    assert len(record_points(3555, 355)) == 11 and record_points(3555, 355)[-1] == 3555


def test_epochs_win_and_the_original_preset_keeps_the_originals_100_epochs():
    seed = make_config("original")
    assert budget(seed, 4096) == (100 * 256, 2560)  # 4,096 images in batches of 16, a point every 10 epochs
    assert budget(make_config("default", epochs=2, steps=999), 300) == (2 * 5, 1)  # epochs win over steps
    assert make_config("original", steps=500).epochs == 0  # a budget in steps replaces the preset's epochs
    assert budget(make_config("original", steps=500), 4096) == (500, 50)


def test_record_points_end_at_the_budget():
    assert record_points(10, 3) == [3, 6, 9, 10]
    assert record_points(9, 3) == [3, 6, 9]
    assert record_points(1, 1) == [1]


def test_batches_cover_every_image_once_an_epoch_and_count_what_they_saw():
    progress, generator = Progress(), torch.Generator().manual_seed(0)
    seen = [progress.next_batch(10, 4, generator) for _ in range(3)]
    assert [len(b) for b in seen] == [4, 4, 2]  # the epoch's last batch holds what is left
    assert sorted(torch.cat(seen).tolist()) == list(range(10)) and progress.images_seen == 10
    assert len(progress.next_batch(10, 4, generator)) == 4 and progress.images_seen == 14  # a new order
    assert progress.step == 4


@pytest.mark.parametrize("settings", [dict(epochs=0), dict(steps=0), dict(steps=2.5), dict(batch_size=-1),
                                      dict(lr=0.0), dict(precision="fp8"), dict(dataset="letters")])
def test_bad_settings_are_one_clear_error(settings):
    name = next(iter(settings))
    with pytest.raises(ConfigError, match=f"^{name} = "):
        make_config("default", **settings)
    with pytest.raises(ConfigError, match="preset = 'fast': choose one of default, original, neighbours"):
        make_config("fast")


def test_a_short_run_still_records_at_least_ten_points(tiny_root):
    train_split, test_split = load_data(tiny_root, download=False)
    cfg = make_config("default", steps=25, batch_size=32)  # 10 steps an epoch: 2.5 epochs
    history = fit(cfg, train_split, test_split, verbose=False)[1]
    assert [h["step"] for h in history] == [*range(2, 26, 2), 25]  # every 25 // 10 steps, and the last
    assert history[-1]["images_seen"] == 2 * 300 + 5 * 32 and history[-1]["epoch"] == pytest.approx(760 / 300,
                                                                                                    abs=1e-4)


@pytest.mark.slow
def test_resume_under_a_step_budget_mid_epoch_is_bitwise(tiny_root, tmp_path, monkeypatch, no_figures):
    flags = ["--steps", "25"]  # 10 steps an epoch, points at 2, 4, ..., 24, 25
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert train(tiny_root, whole, *flags) == 0
    real_step, steps = torch.optim.AdamW.step, []

    def step_then_interrupt(self, *args, **kwargs):
        steps.append(1)
        if len(steps) == 17:  # between the points at steps 16 and 18, in the middle of the second epoch
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", step_then_interrupt)
    assert train(tiny_root, parts, *flags) == 130
    monkeypatch.setattr(torch.optim.AdamW, "step", real_step)
    assert train(tiny_root, parts, "--resume") == 0
    assert_same_run(whole, parts)
    metrics = json.loads((parts / "metrics.json").read_text())
    assert (metrics["steps"], metrics["images_seen"]) == (25, 760) and metrics["epochs_done"] == pytest.approx(2.5333)


def test_precision_auto_uses_bfloat16_only_where_it_is_fast(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(conae.device, "has_fast_bf16", lambda device: False)
    assert resolve_precision("auto", cpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    monkeypatch.setattr(conae.device, "has_fast_bf16", lambda device: True)  # e.g. a Xeon with AMX
    assert resolve_precision("auto", cpu) == "bf16" and resolve_precision("fp32", cpu) == "fp32"


@pytest.mark.slow
def test_bfloat16_training_runs_and_says_so(tiny_root, tmp_path, no_figures):
    out = tmp_path / "run"
    assert train(tiny_root, out, "--precision", "bf16", "--steps", "20") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["precision"] == "bf16" and metrics["config"]["precision"] == "bf16"
    assert 0 < metrics["test_bce"] < 0.7
