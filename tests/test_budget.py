"""The training budget in optimizer steps: its arithmetic, the recorded points, resume under it, precision."""
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from conae.cli import main
from conae.config import ConfigError, make_config
from conae.data import load_data, to_float
from conae.device import has_fast_bf16, resolve_precision
from conae.train import Progress, budget, fit, record_points
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


def cpu_flags():
    """The CPU's feature flags as Linux lists them in /proc/cpuinfo (None elsewhere): a source independent of torch."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    flags = next((line.partition(":")[2].split() for line in lines if line.startswith("flags")), None)
    return set(flags) if flags is not None else None


def test_bfloat16_is_picked_on_this_cpu_exactly_where_it_has_amx():
    flags = cpu_flags()
    if flags is None:
        pytest.skip("no /proc/cpuinfo to read this CPU's flags from")
    cpu, amx = torch.device("cpu"), "amx_tile" in flags
    assert has_fast_bf16(cpu) is amx
    assert resolve_precision("auto", cpu) == ("bf16" if amx else "fp32")
    assert resolve_precision("bf16", cpu) == "bf16" and resolve_precision("fp32", cpu) == "fp32"  # asked: as asked


@pytest.mark.parametrize("capability, fast", [((6, 1), False), ((7, 5), False), ((8, 0), True), ((9, 0), True)])
def test_bfloat16_on_cuda_only_from_compute_capability_8(monkeypatch, capability, fast):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # it counts emulated bfloat16 too
    cuda = torch.device("cuda")
    assert has_fast_bf16(cuda) is fast
    assert resolve_precision("auto", cuda) == ("bf16" if fast else "fp32")


def test_no_bfloat16_on_other_devices():
    assert has_fast_bf16(torch.device("mps")) is False and resolve_precision("auto", torch.device("mps")) == "fp32"


@pytest.mark.slow
def test_bfloat16_training_says_so_and_learns_as_float32_does(tiny_root, tmp_path, no_figures):
    metrics = {}
    for precision in ("fp32", "bf16"):
        assert train(tiny_root, tmp_path / precision, "--precision", precision, "--steps", "60") == 0
        metrics[precision] = json.loads((tmp_path / precision / "metrics.json").read_text())
        assert metrics[precision]["precision"] == precision == metrics[precision]["config"]["precision"]
    train_split, test_split = load_data(tiny_root, download=False, verbose=False)
    mean_image = to_float(train_split.images).mean(0, keepdim=True).expand(len(test_split), -1, -1, -1)
    baseline = F.binary_cross_entropy(mean_image, to_float(test_split.images)).item()  # 0.378 (0.5 everywhere: 0.693)
    assert metrics["bf16"]["test_bce"] < baseline - 0.05  # it learned the images, not their mean
    assert abs(metrics["bf16"]["test_bce"] - metrics["fp32"]["test_bce"]) < 0.005
