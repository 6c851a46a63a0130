"""model.pt: the weights, the config and history of the run, what a resume needs, and the training codes that
recognising a new image needs (so that no data set has to be at hand)."""
import zlib
from dataclasses import asdict

import numpy as np
import torch

from .atomic import atomic_write
from .config import config_from_dict
from .errors import UserError
from .model import ConvAE


class CheckpointError(UserError, ValueError):
    """A checkpoint that cannot be used: not one, or not one for this run."""


def training_state(run):
    """What a resume of a conae.train.Run needs beyond the weights: Adam's moments, the schedule's position, where
    the run stands (its Progress: batch order, position, images seen, step), the random-number streams, and the
    neighbour layout where there is one."""
    return dict(optimizer=run.optimizer.state_dict(), scheduler=run.scheduler.state_dict() if run.scheduler else None,
                generator=run.generator.get_state(), torch_rng=torch.get_rng_state(), batches=asdict(run.progress),
                targets=None if run.targets is None else run.targets.cpu())


def restore_training_state(state, run):
    """Puts a training_state back into run's optimizer, schedule and random numbers; returns where the run
    stood, as the fields of a conae.train.Progress."""
    run.optimizer.load_state_dict(state["optimizer"])
    if run.scheduler:
        run.scheduler.load_state_dict(state["scheduler"])
    run.generator.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    return dict(state["batches"])


def save_checkpoint(path, model, cfg, history, snapshots=(), state=None):
    """model.pt: weights, config, history and snapshots; with state (training_state()) it can be resumed.
    save_codes adds the training codes once training is done."""
    ckpt = dict(model=model.state_dict(), config=asdict(cfg), history=history, snapshots=list(snapshots),
                training_state=state)
    atomic_write(path, lambda tmp: torch.save(ckpt, tmp))


def read_checkpoint(path, cfg=None, need_training_state=False):
    """The checkpoint's dict, checked: a conae checkpoint, for cfg's model size, resumable if asked."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {path}") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path} is a folder, not a checkpoint") from None
    except Exception as e:  # torch.load raises many kinds of error for a file that is not a checkpoint
        raise CheckpointError(f"{path} is not a conae checkpoint ({str(e).splitlines()[0][:100]})") from None
    if not isinstance(ckpt, dict) or not {"model", "config", "history"} <= set(ckpt):
        raise CheckpointError(f"{path} is not a conae checkpoint (it has no model, config and history)")
    dim = ckpt["config"].get("embedding_dim")
    if cfg is not None and dim != cfg.embedding_dim:
        raise CheckpointError(f"{path} was trained with embedding_dim {dim}, not {cfg.embedding_dim}")
    if need_training_state:
        state = ckpt.get("training_state")
        if not state:
            raise CheckpointError(f"{path} holds no training state to resume from")
        if "batches" not in state:
            raise CheckpointError(f"{path} was written by an older conae that counted epochs, not steps: it can be "
                                  "loaded but not resumed (train the run again)")
    return ckpt


def load_checkpoint(path, cfg=None):
    """(model, config, history, snapshots) from a model.pt written by save_checkpoint or fit().

    With cfg, the checkpoint must have been trained with cfg's embedding_dim (else CheckpointError).
    """
    ckpt = read_checkpoint(path, cfg)
    try:
        config = config_from_dict(ckpt["config"])
        model = ConvAE(config.embedding_dim)
        model.load_state_dict(ckpt["model"])
    except (TypeError, KeyError, RuntimeError) as e:
        raise CheckpointError(f"{path} does not fit conae's model ({str(e).splitlines()[0][:100]})") from None
    return model.eval(), config, ckpt["history"], ckpt.get("snapshots", [])


def save_codes(path, train_split, train_codes):
    """Adds to the checkpoint at path what recognising a new image needs without the data set: the training
    codes [N, D], labels, images (for showing the nearest ones; compressed, a quarter of their size) and class
    names."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    ckpt["codes"] = dict(train_codes=torch.as_tensor(train_codes, dtype=torch.float32),
                         train_labels=train_split.labels.clone(), train_images=packed(train_split.images),
                         classes=list(train_split.classes))
    atomic_write(path, lambda tmp: torch.save(ckpt, tmp))


def packed(images):
    """uint8 images [N, 28, 28] as {"zlib": their bytes compressed, "shape"} (torch.save does not compress)."""
    data = zlib.compress(images.contiguous().numpy().tobytes(), 6)  # 9 packs 2% smaller, 15x slower
    return dict(zlib=torch.frombuffer(bytearray(data), dtype=torch.uint8), shape=list(images.shape))


def unpacked(stored):
    """The uint8 images packed() stored (or, from a model.pt written before conae packed them, the tensor)."""
    if isinstance(stored, torch.Tensor):
        return stored
    data = zlib.decompress(stored["zlib"].numpy().tobytes())
    return torch.from_numpy(np.frombuffer(data, np.uint8).reshape(stored["shape"]).copy())
