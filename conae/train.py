"""Training: one epoch of train(), one pass of test(), and fit() that runs them, keeps the history and checkpoints."""
import math
import time
from dataclasses import asdict

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .atomic import atomic_write
from .config import Config, config_from_dict
from .data import one_per_class, to_float
from .model import ConvAE, weight_norm_sum


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: not one, or not one for this run."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, where the caller turns it into KeyboardInterrupt) during fit()."""

    def __init__(self, saved_epochs):
        super().__init__(saved_epochs)
        self.saved_epochs = saved_epochs  # epochs in the checkpoint


def pick_device(name="auto"):
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def channels_last(x):
    """NHWC memory layout for images: on CPU, convolutions run about 2x faster in it (see README, training recipe)."""
    return x.contiguous(memory_format=torch.channels_last) if x.device.type == "cpu" and x.dim() == 4 else x


def random_shift(x, max_shift, generator):
    """Translates each image by its own random (dy, dx) in [-max_shift, max_shift], zero-filled."""
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n, 1), generator=generator).to(x.device)
    rows = (torch.arange(h, device=x.device) + dy)[:, :, None]   # [n, h, 1]
    cols = (torch.arange(w, device=x.device) + dx)[:, None, :]   # [n, 1, w]
    return padded[torch.arange(n, device=x.device)[:, None, None], 0, rows, cols].unsqueeze(1)


def train(model, optimizer, scheduler, images, cfg, generator):
    """One epoch over images (float [N, 1, 28, 28] on the device); returns (mean loss, mean BCE)."""
    model.train()
    order = torch.randperm(len(images), generator=generator)
    total_loss = total_bce = 0.0
    for start in range(0, len(images), cfg.batch_size):
        x = images[order[start:start + cfg.batch_size]]
        if cfg.shift:
            x = random_shift(x, cfg.shift, generator)
        x = channels_last(x)  # indexing returns a plain NCHW tensor
        out = model(x)
        if not torch.isfinite(out).all():  # binary_cross_entropy would fail on NaN with a puzzling message
            raise TrainingDiverged("the reconstructions became NaN")
        bce = F.binary_cross_entropy(out, x)
        loss = bce + cfg.l2_penalty * weight_norm_sum(model) if cfg.l2_penalty else bce
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            raise TrainingDiverged(f"the loss became {loss_value}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler:
            scheduler.step()
        total_loss += loss_value * len(x)
        total_bce += bce.item() * len(x)
    return total_loss / len(images), total_bce / len(images)


@torch.inference_mode()
def in_batches(fn, images, batch_size=256):
    """fn applied to images (float [N, 1, 28, 28]) batch by batch without autograd, results concatenated."""
    return torch.cat([fn(channels_last(x)) for x in images.split(batch_size)])


@torch.inference_mode()
def encode_and_score(model, images, batch_size=256):
    """(codes [N, embedding_dim], mean per-pixel BCE of the reconstructions) of float images, in one pass."""
    model.eval()
    codes, bce_sums = [], []
    for x in images.split(batch_size):
        x = channels_last(x)
        z = model.encode(x)
        codes.append(z)
        bce_sums.append(F.binary_cross_entropy(model.decode(z), x, reduction="sum"))
    return torch.cat(codes), torch.stack(bce_sums).sum().item() / images.numel()


def test(model, images):
    """Mean per-pixel binary cross-entropy of the reconstructions of images."""
    return encode_and_score(model, images)[1]


def reconstruct(model, images):
    model.eval()
    return in_batches(model, images)


def build(cfg: Config, n_train, device):
    """The seeded model, optimizer, learning-rate schedule (or None) and batch-order generator of a run."""
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = ConvAE(cfg.embedding_dim).to(device)
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    adam = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}[cfg.optimizer]
    optimizer = adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = -(-n_train // cfg.batch_size)
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, epochs=cfg.epochs,
                                                     steps_per_epoch=steps_per_epoch)
                 if cfg.schedule == "onecycle" else None)
    return model, optimizer, scheduler, generator


def fit(cfg: Config, train_split, test_split, verbose=True, checkpoint=None, resume=False):
    """Trains a ConvAE; returns (model, history, snapshots).

    history: one dict per epoch (epoch, train_loss, train_bce, test_bce, seconds of training);
    snapshots: after each epoch, uint8 reconstructions of one test digit of each class (one_per_class).
    checkpoint: a path rewritten after every epoch with all a resume needs (weights, optimizer, schedule
    and random-number state), so an interrupted run loses at most the epoch it was in.
    resume: continue from that checkpoint; on CPU the result is bitwise that of an uninterrupted run.
    """
    device = pick_device(cfg.device)
    train_images = channels_last(to_float(train_split.images).to(device))
    test_images = channels_last(to_float(test_split.images).to(device))
    progress_images = test_images[one_per_class(test_split)]
    model, optimizer, scheduler, generator = build(cfg, len(train_images), device)

    history, snapshots = [], []
    if resume:
        ckpt = read_checkpoint(checkpoint, cfg, need_training_state=True)
        history, snapshots = ckpt["history"], ckpt["snapshots"]
        model.load_state_dict(ckpt["model"])
        restore_training_state(ckpt["training_state"], optimizer, scheduler, generator)

    bar = tqdm(range(len(history) + 1, cfg.epochs + 1), desc="training", unit="epoch", disable=not verbose,
               initial=len(history), total=cfg.epochs)
    saved = len(history)  # epochs safe in the checkpoint
    try:
        for epoch in bar:
            start = time.perf_counter()
            try:
                train_loss, train_bce = train(model, optimizer, scheduler, train_images, cfg, generator)
            except TrainingDiverged as e:
                kept = f"; {checkpoint} keeps epoch {saved}" if checkpoint and saved else ""
                raise TrainingDiverged(f"{e} in epoch {epoch}, so training stopped: the learning rate "
                                       f"({cfg.lr:g}) is too high{kept}") from None
            seconds = time.perf_counter() - start
            test_bce = test(model, test_images)
            history.append(dict(epoch=epoch, train_loss=train_loss, train_bce=train_bce,
                                test_bce=test_bce, seconds=seconds))
            snapshots.append(reconstruct(model, progress_images).squeeze(1).mul(255).round().to(torch.uint8).cpu())
            if checkpoint:
                save_checkpoint(checkpoint, model, cfg, history, snapshots,
                                training_state(optimizer, scheduler, generator))
                saved = epoch
            bar.set_postfix(train_loss=f"{train_loss:.4f}", test_bce=f"{test_bce:.4f}")
    except KeyboardInterrupt:
        raise TrainingInterrupted(saved) from None
    finally:
        bar.close()  # so that a message after it starts on a line of its own
    if verbose:  # a lasting record: a notebook saved headless keeps only the bar's first frame
        print(f"trained {len(history)} epochs in {sum(h['seconds'] for h in history):.1f} s: "
              f"train loss {history[-1]['train_loss']:.4f}, test BCE {history[-1]['test_bce']:.4f}")
    return model.cpu(), history, snapshots


def training_state(optimizer, scheduler, generator):
    """What a resume needs beyond the weights: Adam's moments, the schedule's position, the RNG streams."""
    return dict(optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict() if scheduler else None,
                generator=generator.get_state(), torch_rng=torch.get_rng_state())


def restore_training_state(state, optimizer, scheduler, generator):
    optimizer.load_state_dict(state["optimizer"])
    if scheduler:
        scheduler.load_state_dict(state["scheduler"])
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])


def save_checkpoint(path, model, cfg, history, snapshots=(), state=None):
    """model.pt: weights, config, history and snapshots; with state (training_state()) it can be resumed."""
    ckpt = dict(model=model.state_dict(), config=asdict(cfg), history=history, snapshots=list(snapshots),
                training_state=state)
    atomic_write(path, lambda tmp: torch.save(ckpt, tmp))


def read_checkpoint(path, cfg=None, need_training_state=False):
    """The checkpoint's dict, checked: a conae checkpoint, for cfg's model size, resumable if asked."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {path}") from None
    except Exception as e:  # torch.load raises many kinds of error for a file that is not a checkpoint
        raise CheckpointError(f"{path} is not a conae checkpoint ({str(e).splitlines()[0][:100]})") from None
    if not isinstance(ckpt, dict) or not {"model", "config", "history"} <= set(ckpt):
        raise CheckpointError(f"{path} is not a conae checkpoint (it has no model, config and history)")
    dim = ckpt["config"].get("embedding_dim")
    if cfg is not None and dim != cfg.embedding_dim:
        raise CheckpointError(f"{path} was trained with embedding_dim {dim}, not {cfg.embedding_dim}")
    if need_training_state and not ckpt.get("training_state"):
        raise CheckpointError(f"{path} holds no training state to resume from")
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
