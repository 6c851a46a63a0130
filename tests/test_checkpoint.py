"""model.pt: what a resume needs goes in and comes back, and every file that is not a usable checkpoint is one clear
error."""
from dataclasses import asdict

import numpy as np
import pytest
import torch

from conae.checkpoint import (
    CheckpointError,
    load_checkpoint,
    read_checkpoint,
    restore_training_state,
    save_checkpoint,
    save_codes,
    training_state,
    unpacked,
)
from conae.config import make_config
from conae.data import DIGITS, Split
from conae.model import ConvAE
from conae.train import Progress, build, train


class Pickled:
    """An object only pickle can store: loading it could run any code, so a checkpoint that holds one is refused."""


def tiny_run(preset="default", seed=0, steps=3):
    """A Run of preset on 40 random images that has taken a few steps (its optimizer and schedule have state)."""
    images = torch.rand(40, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    run = build(make_config(preset, batch_size=8, steps=20, seed=seed, precision="fp32"), images, torch.device("cpu"))
    train(run, steps)
    return run


def test_a_training_state_comes_back_whole_into_another_run():
    run = tiny_run()
    run.targets = torch.arange(6.0).reshape(2, 3)
    state = training_state(run)
    batches = state["batches"]
    assert torch.equal(batches["order"], run.progress.order) and (batches["position"], batches["images_seen"],
                                                                  batches["step"]) == (24, 24, 3)
    assert torch.equal(state["targets"], run.targets) and state["scheduler"]["last_epoch"] == 3
    expected_next = torch.rand(5, generator=run.generator)  # what the run's own stream gives next
    torch_next = torch.rand(5)
    torch.set_rng_state(state["torch_rng"])
    assert torch.equal(torch.rand(5), torch_next)  # the state holds torch's stream as it was

    other = tiny_run(seed=1, steps=1)  # another seed, another position: everything must be replaced
    progress = restore_training_state(state, other)
    assert progress is not batches and set(progress) == set(batches)  # a copy, which the run may change
    assert torch.equal(progress["order"], batches["order"]) and Progress(**progress).step == 3
    assert torch.equal(torch.rand(5, generator=other.generator), expected_next)
    assert torch.equal(torch.rand(5), torch_next)  # torch's stream set back too
    assert other.scheduler.state_dict()["last_epoch"] == 3
    mine, theirs = run.optimizer.state_dict(), other.optimizer.state_dict()
    assert mine["param_groups"][0]["lr"] == theirs["param_groups"][0]["lr"]
    assert all(torch.equal(mine["state"][i]["exp_avg"], theirs["state"][i]["exp_avg"]) for i in mine["state"])


def test_a_run_without_a_schedule_or_targets_keeps_them_none():
    run = tiny_run("original")
    state = training_state(run)
    assert state["scheduler"] is None and state["targets"] is None
    other = tiny_run("original", seed=1, steps=1)
    restore_training_state(state, other)
    assert other.scheduler is None


def test_save_and_read_back_a_resumable_checkpoint(tmp_path):
    run = tiny_run()
    cfg = run.cfg
    history = [dict(step=3, epoch=0.6, test_bce=0.5)]
    snapshots = [torch.zeros(10, 28, 28, dtype=torch.uint8)]
    path = tmp_path / "run" / "model.pt"  # its folder is made
    save_checkpoint(path, run.model, cfg, history, snapshots, training_state(run))
    ckpt = read_checkpoint(path, cfg, need_training_state=True)
    assert set(ckpt) == {"model", "config", "history", "snapshots", "training_state"}
    assert ckpt["config"] == asdict(cfg) and ckpt["history"] == history and torch.equal(ckpt["snapshots"][0],
                                                                                         snapshots[0])
    model, config, loaded_history, loaded_snapshots = load_checkpoint(path, cfg)
    assert config == cfg and loaded_history == history and len(loaded_snapshots) == 1
    assert not model.training and all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                                         run.model.state_dict().values()))
    save_checkpoint(path, run.model, cfg, history)  # without state: loadable, not resumable
    assert read_checkpoint(path)["training_state"] is None and load_checkpoint(path)[3] == []
    with pytest.raises(CheckpointError, match=f"^{path} holds no training state to resume from$"):
        read_checkpoint(path, need_training_state=True)


def test_the_training_codes_go_into_the_checkpoint(tmp_path):
    run = tiny_run()
    path = tmp_path / "model.pt"
    save_checkpoint(path, run.model, run.cfg, [dict(step=1)])
    split = Split(torch.zeros(4, 28, 28, dtype=torch.uint8), torch.tensor([0, 1, 2, 1]), "here", DIGITS)
    save_codes(path, split, np.tile([0.0, 1.0, 2.0], (4, 1)))  # float64, as numpy gives them
    codes = read_checkpoint(path)["codes"]
    assert codes["train_codes"].dtype == torch.float32 and codes["train_codes"].shape == (4, 3)
    assert codes["train_labels"].tolist() == [0, 1, 2, 1] and unpacked(codes["train_images"]).shape == (4, 28, 28)
    assert codes["classes"] == list(DIGITS)
    assert read_checkpoint(path)["history"] == [dict(step=1)]  # the rest of the checkpoint is kept


def test_files_that_are_not_usable_checkpoints_are_one_clear_error(tmp_path):
    def refused(path, **kwargs):
        with pytest.raises(CheckpointError) as e:
            read_checkpoint(path, **kwargs)
        return str(e.value)

    assert refused(tmp_path / "none.pt") == f"no checkpoint at {tmp_path / 'none.pt'}"
    assert refused(tmp_path) == f"{tmp_path} is a folder, not a checkpoint"
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    assert refused(text).startswith(f"{text} is not a conae checkpoint (")
    for content in ([1, 2], {"model": {}, "config": {}}):
        torch.save(content, tmp_path / "other.pt")
        assert refused(tmp_path / "other.pt") == \
            f"{tmp_path / 'other.pt'} is not a conae checkpoint (it has no model, config and history)"

    torch.save(dict(model={}, config={}, history=[], extra=Pickled()), tmp_path / "pickled.pt")
    assert refused(tmp_path / "pickled.pt").startswith(f"{tmp_path / 'pickled.pt'} is not a conae checkpoint (")
    torch.save(dict(model={}, config=dict(embedding_dim=2), history=[]), tmp_path / "small.pt")
    assert read_checkpoint(tmp_path / "small.pt")["history"] == []  # exactly the three keys: a checkpoint
    assert refused(tmp_path / "small.pt", cfg=make_config()) == \
        f"{tmp_path / 'small.pt'} was trained with embedding_dim 2, not 3"
    torch.save(dict(model={}, config={}, history=[], training_state=dict(epoch=3)), tmp_path / "old.pt")
    assert refused(tmp_path / "old.pt", need_training_state=True) == (
        f"{tmp_path / 'old.pt'} was written by an older conae that counted epochs, not steps: it can be loaded but "
        "not resumed (train the run again)")


def test_weights_that_do_not_fit_the_model_are_one_clear_error(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, ConvAE(2), make_config(embedding_dim=3), [])  # a 2-number model said to be of 3
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    assert str(e.value).startswith(f"{path} does not fit conae's model (Error(s) in loading state_dict for ConvAE")
