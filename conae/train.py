"""Training: train() runs a stretch of optimizer steps, test() scores the BCE, and fit() runs the whole budget,
recording the history at evenly spaced points and checkpointing at each of them."""
import math
import time
from contextlib import nullcontext

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .checkpoint import read_checkpoint, restore_training_state, save_checkpoint, training_state
from .config import Config
from .data import one_per_class, to_float
from .model import ConvAE, weight_norm_sum
from .neighbours import check as check_neighbours
from .neighbours import layout, neighbour_loss

MIN_POINTS = 10  # a run records progress and the test BCE at least this many times, whatever its length


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, where the caller turns it into KeyboardInterrupt) during fit()."""

    def __init__(self, saved):
        super().__init__(saved)
        self.saved = saved  # the history entry the checkpoint ends with (None: nothing saved yet)


def pick_device(name="auto"):
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def has_fast_bf16(device):
    """Whether the device computes in bfloat16 faster than in float32: a CUDA GPU that supports it, or a CPU
    with AMX matrix units (Intel Xeon since Sapphire Rapids). Elsewhere bfloat16 is emulated or no faster."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        amx = getattr(torch._C._cpu, "_is_amx_tile_supported", None)  # present since torch 2.3
        return bool(amx and amx())
    return False


def resolve_precision(precision, device):
    """"fp32" or "bf16" for cfg.precision ("auto" picks bf16 only where has_fast_bf16)."""
    if precision == "auto":
        return "bf16" if has_fast_bf16(device) else "fp32"
    return precision


def autocast(device, precision):
    """The forward pass's context: bfloat16 autocast, or nothing for fp32."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" else nullcontext()


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


def random_turn(x, degrees, zoom, generator):
    """Turns each image by its own random angle in [-degrees, degrees] and scales it by a random factor in
    [1 - zoom, 1 + zoom] about its centre (bilinear, zero-filled)."""
    n = len(x)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(degrees)
    scale = 1 + (torch.rand(n, generator=generator) * 2 - 1) * zoom
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(angle) / scale, -torch.sin(angle) / scale
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(angle) / scale, torch.cos(angle) / scale
    grid = F.affine_grid(theta.to(x.device), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def moved(x, cfg, generator):
    """The images as the encoder sees them: shifted, turned and scaled at random as cfg says (x itself if not)."""
    if cfg.shift:
        x = random_shift(x, cfg.shift, generator)
    if cfg.rotate or cfg.zoom:
        x = random_turn(x, cfg.rotate, cfg.zoom, generator)
    return x


# --- the budget: how many steps, and where the history records a point ---

def steps_per_epoch(n_train, batch_size):
    return -(-n_train // batch_size)  # the last batch of an epoch holds what is left


def budget(cfg: Config, n_train):
    """(total optimizer steps, steps between recorded points) of a run on n_train images.

    The length is cfg.epochs full passes when set (it wins), else cfg.steps, so that a run takes about the same
    time whatever the size of the training set. Points are recorded every epoch, or more often where that would
    give fewer than MIN_POINTS, and always at the last step.
    """
    per_epoch = steps_per_epoch(n_train, cfg.batch_size)
    total = cfg.epochs * per_epoch if cfg.epochs else cfg.steps
    return total, max(1, min(per_epoch, math.ceil(total / MIN_POINTS)))


def record_points(total, every):
    """The steps after which fit() records the history: every `every` steps, and the last one."""
    return list(range(every, total, every)) + [total]


def new_batches():
    """Where a run is in its pass over the training images: the current random order, how far into it, how
    many images it has trained on and how many steps it has taken. fit() checkpoints it, so a resumed run takes
    the very same batches."""
    return dict(order=torch.zeros(0, dtype=torch.int64), position=0, images_seen=0, step=0)


def next_batch(batches, n_train, batch_size, generator):
    """Indices of the next batch; a new random order starts each epoch (its last batch holds what is left)."""
    if batches["position"] >= len(batches["order"]):
        batches["order"], batches["position"] = torch.randperm(n_train, generator=generator), 0
    start = batches["position"]
    batches["position"] = min(start + batch_size, n_train)
    batches["images_seen"] += batches["position"] - start
    batches["step"] += 1
    return batches["order"][start:batches["position"]]


def train(model, optimizer, scheduler, images, cfg, generator, batches, steps, precision="fp32", targets=None):
    """steps optimizer steps over images (float [N, 1, 28, 28] on the device); returns (mean loss, mean BCE).

    The loss is the per-pixel BCE of the reconstructions, plus cfg.l2_penalty * sum of the weights' norms,
    plus a weight * the neighbour term towards targets (conae.neighbours), where those are set: the weight
    falls linearly from cfg.neighbours at the first step by cfg.neighbours_decay of itself at the last."""
    model.train()
    total_loss = total_bce = 0.0
    seen = 0
    total_steps = budget(cfg, len(images))[0]
    for _ in range(steps):
        weight = cfg.neighbours * (1 - cfg.neighbours_decay * batches["step"] / total_steps)
        batch = next_batch(batches, len(images), cfg.batch_size, generator)
        x = images[batch]
        seen_by_encoder = channels_last(moved(x, cfg, generator))  # moved in NCHW, where it is fastest
        x = channels_last(x)  # indexing returns a plain NCHW tensor
        with autocast(x.device, precision):
            codes = model.encode(seen_by_encoder)
            out = model.decode(codes)
        out = out.float()  # the loss in float32: bfloat16 cannot tell 0.999 from 1
        if not torch.isfinite(out).all():  # binary_cross_entropy would fail on NaN with a puzzling message
            raise TrainingDiverged("the reconstructions became NaN")
        bce = F.binary_cross_entropy(out, x)
        loss = bce
        if cfg.l2_penalty:
            loss = loss + cfg.l2_penalty * weight_norm_sum(model)
        if cfg.neighbours:
            loss = loss + weight * neighbour_loss(codes.float(), targets[batch])
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
        seen += len(x)
    return total_loss / seen, total_bce / seen


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
    total = budget(cfg, n_train)[0]
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=total)
                 if cfg.schedule == "onecycle" else None)
    return model, optimizer, scheduler, generator


def fit(cfg: Config, train_split, test_split, verbose=True, checkpoint=None, resume=False):
    """Trains a ConvAE for the run's budget; returns (model, history, snapshots).

    history: one dict per recorded point (step, epoch: epochs done, possibly fractional, images_seen,
    train_loss and train_bce: means since the last point, test_bce, seconds of training since the last point,
    for the first point with what the objective needs before training included: the neighbour layout);
    snapshots: at each point, uint8 reconstructions of one test image of each class (one_per_class).
    checkpoint: a path rewritten at every point with all a resume needs (weights, optimizer, schedule, batch
    order and random-number state), so an interrupted run loses at most the stretch since the last point.
    resume: continue from that checkpoint; on CPU the result is bitwise that of an uninterrupted run.
    """
    n_train = len(train_split)
    check_neighbours(cfg, n_train)
    device = pick_device(cfg.device)
    precision = resolve_precision(cfg.precision, device)
    train_images = channels_last(to_float(train_split.images).to(device))
    test_images = channels_last(to_float(test_split.images).to(device))
    progress_images = test_images[one_per_class(test_split)]
    model, optimizer, scheduler, generator = build(cfg, n_train, device)
    total, every = budget(cfg, n_train)

    history, snapshots, batches, targets, setup_seconds = [], [], new_batches(), None, 0.0
    if resume:
        ckpt = read_checkpoint(checkpoint, cfg, need_training_state=True)
        history, snapshots = ckpt["history"], ckpt["snapshots"]
        model.load_state_dict(ckpt["model"])
        batches = restore_training_state(ckpt["training_state"], optimizer, scheduler, generator)
        targets = ckpt["training_state"].get("targets")
    elif cfg.neighbours:  # the neighbour layout is part of the training time: it is what the objective needs
        targets, setup_seconds = layout(cfg, train_split, verbose)
    if targets is not None:
        targets = targets.to(device)

    done = history[-1]["step"] if history else 0
    bar = tqdm(total=total, initial=done, desc="training", unit="step", disable=not verbose)
    saved = history[-1] if history else None  # the point safe in the checkpoint
    try:
        for point in (p for p in record_points(total, every) if p > done):
            start = time.perf_counter()
            try:
                train_loss, train_bce = train(model, optimizer, scheduler, train_images, cfg, generator, batches,
                                              point - done, precision, targets)
            except TrainingDiverged as e:
                kept = f"; {checkpoint} keeps {describe(saved)}" if checkpoint and saved else ""
                raise TrainingDiverged(f"{e} between {describe(history[-1]) if history else 'the start'} and step "
                                       f"{point}, so training stopped: the learning rate ({cfg.lr:g}) is too "
                                       f"high{kept}") from None
            seconds = time.perf_counter() - start + (setup_seconds if not history else 0.0)
            test_bce = test(model, test_images)
            history.append(dict(step=point, epoch=round(batches["images_seen"] / n_train, 4),
                                images_seen=batches["images_seen"], train_loss=train_loss, train_bce=train_bce,
                                test_bce=test_bce, seconds=seconds))
            snapshots.append(reconstruct(model, progress_images).squeeze(1).mul(255).round().to(torch.uint8).cpu())
            if checkpoint:
                save_checkpoint(checkpoint, model, cfg, history, snapshots,
                                training_state(optimizer, scheduler, generator, batches, targets))
                saved = history[-1]
            bar.update(point - done)
            bar.set_postfix(epoch=f"{history[-1]['epoch']:g}", train_loss=f"{train_loss:.4f}",
                            test_bce=f"{test_bce:.4f}")
            done = point
    except KeyboardInterrupt:
        raise TrainingInterrupted(saved) from None
    finally:
        bar.close()  # so that a message after it starts on a line of its own
    if verbose:  # a lasting record: a notebook saved headless keeps only the bar's first frame
        last = history[-1]
        print(f"trained {last['step']:,} steps ({last['epoch']:g} epochs, {last['images_seen']:,} images, {precision}) "
              f"in {sum(h['seconds'] for h in history):.1f} s: train loss {last['train_loss']:.4f}, "
              f"test BCE {last['test_bce']:.4f}")
    return model.cpu(), history, snapshots


def describe(point):
    """A history point as messages name it: "step 790 (epoch 10)"."""
    return f"step {point['step']:,} (epoch {point['epoch']:g})"
