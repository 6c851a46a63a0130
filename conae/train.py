"""Training: fit() runs a whole budget of optimizer steps top to bottom, recording the history at evenly spaced
points and checkpointing at each; train() runs one stretch of steps between two points, where
conae.inference.test_bce scores the test set."""
import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .augment import moved
from .checkpoint import read_checkpoint, restore_training_state, save_checkpoint, training_state
from .config import Config
from .data import one_per_class, to_float
from .device import autocast, channels_last, pick_device, resolve_precision
from .errors import TrainingDiverged, TrainingInterrupted, describe
from .inference import reconstruct, test_bce
from .model import ConvAE, weight_norm_sum
from .neighbours import check_enough_images, layout, neighbour_loss
from .progress import progress_bar

MIN_POINTS = 10  # a run records progress and the test BCE 10 to 20 times, whatever its length
SCORED_DURING_TRAINING = 1000  # test images scored at each point before the last (the last scores all of them)


# --- the budget: how many steps, and where the history records a point ---

def steps_per_epoch(n_train, batch_size):
    return -(-n_train // batch_size)  # the last batch of an epoch holds what is left


def budget(cfg: Config, n_train):
    """(total optimizer steps, steps between recorded points) of a run on n_train images.

    The length is cfg.epochs full passes when set (it wins), else cfg.steps, so that a run takes about the same
    time whatever the size of the training set. A point is recorded every total // MIN_POINTS steps and at the
    last one: 10 to 20 points whatever the run's length. Each point scores the test set (fit: a fixed sample of it
    before the last point) and rewrites the checkpoint, so more of them would cost time without changing the
    curves (nor the weights: scoring draws no random numbers).
    """
    total = cfg.epochs * steps_per_epoch(n_train, cfg.batch_size) if cfg.epochs else cfg.steps
    return total, max(1, total // MIN_POINTS)


def record_points(total, every):
    """The steps after which fit() records the history: every `every` steps, and the last one."""
    return list(range(every, total, every)) + [total]


# --- where a run stands, and what a stretch of training uses ---

@dataclass
class Progress:
    """Where a run stands in its passes over the training images: the current random order, how far into it,
    how many images it has trained on and how many steps it has taken. The checkpoint keeps it, so a resumed run
    takes the very same batches."""
    order: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.int64))
    position: int = 0
    images_seen: int = 0
    step: int = 0

    def next_batch(self, n_train, batch_size, generator):
        """Indices of the next batch; a new random order starts each epoch (its last batch holds what is left)."""
        if self.position >= len(self.order):
            self.order, self.position = torch.randperm(n_train, generator=generator), 0
        start = self.position
        self.position = min(start + batch_size, n_train)
        self.images_seen += self.position - start
        self.step += 1
        return self.order[start:self.position]


@dataclass
class Run:
    """Everything a stretch of training uses and changes: the recipe, the model and its optimizer and schedule,
    the random numbers of the batch order and the moves, the training images on the device (float [N, 1, 28, 28]),
    the neighbour layout's targets (or None), the precision and where the run stands."""
    cfg: Config
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: object
    generator: torch.Generator
    images: torch.Tensor
    precision: str = "fp32"
    targets: torch.Tensor = None
    progress: Progress = field(default_factory=Progress)

    @property
    def total_steps(self):
        return budget(self.cfg, len(self.images))[0]


def build(cfg: Config, images, device, precision="fp32"):
    """A new seeded Run of cfg over float images [N, 1, 28, 28]: model, optimizer, one-cycle schedule (or none),
    batch-order generator."""
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = ConvAE(cfg.embedding_dim).to(device)
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    adam = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}[cfg.optimizer]
    # foreach: all parameters updated by a few multi-tensor ops, not one loop of ops per tensor (torch's default on
    # the CPU): bitwise the same numbers, a third less time per step of the optimizer (docs/results.md, "Where the
    # time goes")
    optimizer = adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)
    total = budget(cfg, len(images))[0]
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=total)
                 if cfg.schedule == "onecycle" else None)
    return Run(cfg, model, optimizer, scheduler, generator, channels_last(images.to(device)), precision)


def train(run: Run, steps):
    """steps optimizer steps of run; returns (mean loss, mean BCE) over them.

    The loss is the per-pixel BCE of the reconstructions, plus cfg.l2_penalty * sum of the weights' norms,
    plus a weight * the neighbour term towards run.targets (conae.neighbours), where those are set: the weight
    falls linearly from cfg.neighbours at the first step by cfg.neighbours_decay of itself at the last."""
    cfg, model, progress = run.cfg, run.model, run.progress
    model.train()
    total_loss = total_bce = 0.0
    seen = 0
    for _ in range(steps):
        weight = cfg.neighbours * (1 - cfg.neighbours_decay * progress.step / run.total_steps)
        batch = progress.next_batch(len(run.images), cfg.batch_size, run.generator)
        x = run.images[batch]
        seen_by_encoder = channels_last(moved(x, cfg, run.generator))  # moved in NCHW, where it is fastest
        x = channels_last(x)  # indexing returns a plain NCHW tensor
        with autocast(x.device, run.precision):
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
            loss = loss + weight * neighbour_loss(codes.float(), run.targets[batch])
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            raise TrainingDiverged(f"the loss became {loss_value}")
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        run.optimizer.step()
        if run.scheduler:
            run.scheduler.step()
        total_loss += loss_value * len(x)
        total_bce += bce.item() * len(x)
        seen += len(x)
    return total_loss / seen, total_bce / seen


def fit(cfg: Config, train_split, test_split, verbose=True, checkpoint=None, resume=False):
    """Trains a ConvAE for the run's budget; returns (model, history, snapshots).

    history: one dict per recorded point (record_point); snapshots: at each point, uint8 reconstructions of one
    test image of each class (one_per_class).
    checkpoint: a path rewritten at every point with all a resume needs (weights, optimizer, schedule, batch
    order and random-number state), so an interrupted run loses at most the stretch since the last point.
    resume: continue from that checkpoint; on CPU the result is bitwise that of an uninterrupted run.
    """
    n_train = len(train_split)
    check_enough_images(cfg, n_train)
    device = pick_device(cfg.device)
    run = build(cfg, to_float(train_split.images), device, resolve_precision(cfg.precision, device))
    test_images = channels_last(to_float(test_split.images).to(device))
    progress_images = test_images[one_per_class(test_split)]
    # the points before the last score a fixed random sample of the test set: the curve's shape at a fraction of
    # the cost; the last point scores all of it
    sample = torch.randperm(len(test_images), generator=torch.Generator().manual_seed(0))[:SCORED_DURING_TRAINING]
    sampled_test_images = test_images[sample.sort().values.to(device)]
    total, every = budget(cfg, n_train)
    history, snapshots, setup_seconds = start_or_resume(run, train_split, checkpoint, resume, verbose)

    done = history[-1]["step"] if history else 0
    saved = history[-1] if history else None  # the point safe in the checkpoint
    bar = progress_bar(total=total, initial=done, desc="training", unit="step", disable=not verbose)
    try:
        for point in (p for p in record_points(total, every) if p > done):
            start = time.perf_counter()
            try:
                losses = train(run, point - done)
            except TrainingDiverged as e:
                kept = f"; {checkpoint} keeps {describe(saved)}" if checkpoint and saved else ""
                raise TrainingDiverged(f"{e} between {describe(history[-1]) if history else 'the start'} and step "
                                       f"{point}, so training stopped: the learning rate ({cfg.lr:g}) is too "
                                       f"high{kept}") from None
            trained = time.perf_counter()
            setup = setup_seconds if not history else None  # the first point's seconds include the layout's
            history.append(record_point(run, losses, trained - start, setup,
                                        test_images if point == total else sampled_test_images, n_train))
            snapshots.append(reconstruct(run.model, progress_images).squeeze(1).mul(255).round().to(torch.uint8))
            history[-1]["scoring_seconds"] = time.perf_counter() - trained  # not training: train_seconds leaves it out
            if checkpoint:
                save_checkpoint(checkpoint, run.model, cfg, history, snapshots, training_state(run))
                saved = history[-1]
            bar.update(point - done)
            bar.set_postfix(epoch=f"{history[-1]['epoch']:g}", train_loss=f"{losses[0]:.4f}",
                            test_bce=f"{history[-1]['test_bce']:.4f}")
            done = point
    except KeyboardInterrupt:
        raise TrainingInterrupted(saved) from None
    finally:
        bar.close()  # so that a message after it starts on a line of its own
    if verbose:  # a lasting record, in words
        last = history[-1]
        print(f"trained {last['step']:,} steps ({last['epoch']:g} epochs, {last['images_seen']:,} images, "
              f"{run.precision}) in {sum(h['seconds'] for h in history):.1f} s: train loss {last['train_loss']:.4f}, "
              f"test BCE {last['test_bce']:.4f}")
    return run.model.cpu(), history, snapshots


def start_or_resume(run, train_split, checkpoint, resume, verbose):
    """Where fit starts: (history, snapshots, setup seconds). Resumed: the checkpoint's history and snapshots,
    with its weights, optimizer, schedule, batch order, random numbers and neighbour layout put back into run.
    Else from nothing, with the neighbour layout made where the recipe has one (its seconds are part of the
    training time: the first point's)."""
    history, snapshots, setup_seconds = [], [], 0.0
    if resume:
        ckpt = read_checkpoint(checkpoint, run.cfg, need_training_state=True)
        history, snapshots = ckpt["history"], ckpt["snapshots"]
        run.model.load_state_dict(ckpt["model"])
        run.progress = Progress(**restore_training_state(ckpt["training_state"], run))
        run.targets = ckpt["training_state"].get("targets")
    elif run.cfg.neighbours:
        run.targets, setup_seconds = layout(run.cfg, train_split, verbose)
    if run.targets is not None:
        run.targets = run.targets.to(run.images.device)
    return history, snapshots, setup_seconds


def record_point(run, losses, seconds, setup_seconds, scored_images, n_train):
    """A recorded point of the history: step, epoch (epochs done, possibly fractional), images_seen, train_loss
    and train_bce (losses: their means since the last point), test_bce of scored_images (scored_images: how many),
    seconds of training since the last point; the first point also names setup_seconds (what the objective needed
    before training: the neighbour layout), which its seconds include. fit adds scoring_seconds: what scoring and
    the snapshot took."""
    train_loss, train_bce = losses
    point = dict(step=run.progress.step, epoch=round(run.progress.images_seen / n_train, 4),
                 images_seen=run.progress.images_seen, train_loss=train_loss, train_bce=train_bce,
                 test_bce=test_bce(run.model, scored_images), scored_images=len(scored_images),
                 seconds=seconds + (setup_seconds or 0.0))
    if setup_seconds is not None:
        point["setup_seconds"] = setup_seconds
    return point
