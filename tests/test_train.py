import dataclasses

import pytest
import torch

from conae.augment import random_elastic, random_pen, random_shift, random_turn
from conae.checkpoint import load_checkpoint, save_checkpoint
from conae.config import make_config
from conae.data import load_data
from conae.train import build, fit
from tests.test_robustness import without_timings


def tiny_config(**overrides):
    return make_config("default", **{"epochs": 3, "batch_size": 32, "lr": 3e-3, **overrides})


def test_training_lowers_the_loss(tiny_root):
    train, test = load_data(tiny_root, download=False)
    model, history, snapshots = fit(tiny_config(shift=0), train, test, verbose=False)
    assert history[-1]["train_bce"] < 0.8 * history[0]["train_bce"]
    assert history[-1]["test_bce"] < history[0]["test_bce"]
    # 3 epochs of 10 steps record a point every 3 steps (at least 10 points), the last at the end
    assert [h["step"] for h in history] == list(range(3, 31, 3)) and all(h["seconds"] > 0 for h in history)
    assert history[-1]["epoch"] == 3 and history[-1]["images_seen"] == 900
    assert len(snapshots) == 10 and snapshots[0].shape == (10, 28, 28) and snapshots[0].dtype == torch.uint8


def test_same_seed_same_numbers(tiny_root):
    train, test = load_data(tiny_root, download=False)
    runs = [fit(tiny_config(epochs=2), train, test, verbose=False) for _ in range(2)]
    numbers = [without_timings(history) for _, history, _ in runs]
    assert numbers[0] == numbers[1]
    other = fit(tiny_config(epochs=2, seed=1), train, test, verbose=False)[1]
    assert other[-1]["train_loss"] != runs[0][1][-1]["train_loss"]


def test_l2_penalty_is_added_to_the_loss(tiny_root):
    train, test = load_data(tiny_root, download=False)
    history = fit(tiny_config(epochs=1, l2_penalty=0.0005), train, test, verbose=False)[1]
    assert history[0]["train_loss"] > history[0]["train_bce"]


def test_checkpoint_round_trip(tiny_root, tmp_path):
    train, test = load_data(tiny_root, download=False)
    cfg = tiny_config(epochs=1, embedding_dim=2)
    model, history, snapshots = fit(cfg, train, test, verbose=False)
    save_checkpoint(tmp_path / "model.pt", model, cfg, history, snapshots)
    loaded, loaded_cfg, loaded_history, loaded_snapshots = load_checkpoint(tmp_path / "model.pt")
    assert dataclasses.asdict(loaded_cfg) == dataclasses.asdict(cfg) and loaded_history == history
    state = model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in loaded.state_dict().items())
    x = torch.rand(4, 1, 28, 28)
    assert torch.allclose(loaded(x), model.eval()(x), atol=1e-6)
    assert torch.equal(loaded_snapshots[0], snapshots[0])


def test_random_shift_moves_whole_images():
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 10:18, 10:18] = 1  # a square well inside the frame: a shift of <= 2 keeps it whole
    shifted = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == x.shape and torch.equal(shifted.sum((1, 2, 3)), x.sum((1, 2, 3)))
    rows = shifted[:, 0].sum(2).nonzero()[:, 1].view(64, 8)[:, 0] - 10  # where each square starts
    cols = shifted[:, 0].sum(1).nonzero()[:, 1].view(64, 8)[:, 0] - 10
    assert set(rows.tolist()) == set(cols.tolist()) == {-2, -1, 0, 1, 2}


def test_default_decays_weights_decoupled_and_the_original_preset_as_the_original():
    cpu, images = torch.device("cpu"), torch.rand(100, 1, 28, 28)
    default = build(make_config("default"), images, cpu).optimizer
    original = build(make_config("original"), images, cpu).optimizer
    assert type(default) is torch.optim.AdamW and default.defaults["weight_decay"] == 0.1
    assert type(original) is torch.optim.Adam and original.defaults["weight_decay"] == 1e-4


def test_random_turn_turns_and_scales_about_the_centre():
    x = torch.zeros(32, 1, 28, 28)
    x[:, :, 12:16, 4:24] = 1  # a horizontal bar through the centre
    same = random_turn(x, 0, 0, torch.Generator().manual_seed(0))
    assert torch.allclose(same, x, atol=1e-6)  # no angle, no zoom: nothing moves
    turned = random_turn(x, 30, 0.1, torch.Generator().manual_seed(0))
    assert not torch.allclose(turned, x, atol=0.1)
    rows = (turned[:, 0] > 0.5).float().sum(dim=2).nonzero()[:, 1]
    assert rows.float().mean().item() == pytest.approx(13.5, abs=0.6)  # still centred
    assert (turned[:, 0, :12].sum() + turned[:, 0, 16:].sum()) > 0  # tilted out of its rows


def test_another_pen_and_hand_change_strokes_but_keep_the_character():
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 6:22, 12:15] = 1  # a vertical stroke, 3 pixels wide
    generator = torch.Generator().manual_seed(0)
    pens = random_pen(x, 1.0, 0.0, 0.0, generator)  # every image thicker or thinner, nothing else
    ink = pens.sum((1, 2, 3))
    assert (ink > x[0].sum()).any() and (ink < x[0].sum()).any() and (ink > 0.4 * x[0].sum()).all()
    assert torch.equal(random_pen(x, 0.0, 0.0, 0.0, generator), x)  # no share: nothing changes
    warped = random_elastic(x, 34.0, 4.0, torch.Generator().manual_seed(0))
    assert not torch.allclose(warped, x, atol=0.05)
    mass = warped.sum((1, 2, 3)) / x.sum((1, 2, 3))
    cols = (warped[:, 0].sum(1) * torch.arange(28)).sum(1) / warped[:, 0].sum((1, 2))
    assert ((mass > 0.4) & (mass < 1.6)).all() and ((cols - 13).abs() < 3).all()  # bent, stretched, kept whole
    again = random_elastic(x, 34.0, 4.0, torch.Generator().manual_seed(0))
    assert torch.equal(warped, again)  # the run's generator decides: resume stays bitwise
