"""The figures. Each function returns a matplotlib Figure (titled, axes labelled, legend where colours mean something)."""
import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.utils import make_grid

from .data import one_per_class, to_float
from .evaluate import encode
from .train import reconstruct

DIGIT_COLORS = plt.get_cmap("tab10")


def _mosaic(ax, rows, row_names, col_names=None, pad=2):
    """Draws rows of 28x28 images (uint8 0..255 or float 0..1 tensors) as one labelled mosaic."""
    images = torch.stack([img.float() / 255 if img.dtype == torch.uint8 else img.float()
                          for row in rows for img in row])
    grid = make_grid(images.reshape(-1, 1, 28, 28), nrow=len(rows[0]), padding=pad, pad_value=1.0)
    ax.imshow(grid[0].numpy(), cmap="gray_r", vmin=0, vmax=1)
    step = 28 + pad
    ax.set_yticks([pad + 14 + i * step for i in range(len(rows))], row_names)
    ax.set_xticks([pad + 14 + j * step for j in range(len(rows[0]))], col_names or [])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)


def plot_samples(split, n=32, cols=8, seed=0):
    """A grid of n random digits of split, each titled with its label."""
    idx = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:n]
    rows = -(-len(idx) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.25), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, idx):
        ax.imshow(split.images[i].numpy(), cmap="gray_r")
        ax.set_title(f"label {int(split.labels[i])}", fontsize=9)
    fig.suptitle(f"Sample training digits ({len(split):,} in all)")
    fig.tight_layout()
    return fig


def plot_loss(history):
    """Train and test binary cross-entropy per epoch (and the penalised training loss when it differs)."""
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(epochs, [h["train_bce"] for h in history], "o-", ms=3, label="train BCE")
    ax.plot(epochs, [h["test_bce"] for h in history], "s-", ms=3, label="test BCE")
    if any(h["train_loss"] != h["train_bce"] for h in history):
        ax.plot(epochs, [h["train_loss"] for h in history], ":", label="train loss (BCE + L2 penalty)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("binary cross-entropy per pixel")
    ax.set_title("Training curve")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_latent(model, split, max_points=5000):
    """The codes of split coloured by digit: each 2-D projection of the first three dimensions, and 3-D."""
    codes, labels = encode(model, split.images), split.labels.numpy()
    if len(codes) > max_points:  # a readable scatter; the subsample is fixed so the figure is stable
        keep = np.random.default_rng(0).choice(len(codes), max_points, replace=False)
        codes, labels = codes[keep], labels[keep]
    dims = min(codes.shape[1], 3)
    if dims == 1:
        codes = np.column_stack([codes[:, 0], labels + np.random.default_rng(0).uniform(-0.3, 0.3, len(labels))])
    pairs = [(0, 1), (0, 2), (1, 2)] if dims == 3 else [(0, 1)]
    fig = plt.figure(figsize=(16, 4.2) if dims == 3 else (6, 5))
    colors = DIGIT_COLORS(labels % 10)
    size = 3 if len(codes) > 2000 else 9  # dense scatters need small dots; sparse ones need visible ones
    for i, (a, b) in enumerate(pairs):
        ax = fig.add_subplot(1, len(pairs) + (dims == 3), i + 1)
        ax.scatter(codes[:, a], codes[:, b], c=colors, s=size, alpha=0.7, linewidths=0)
        ax.set_xlabel(f"z{a + 1}")
        ax.set_ylabel("digit (jittered)" if dims == 1 else f"z{b + 1}")
        ax.set_title(f"z{a + 1} vs z{b + 1}" if dims > 1 else "z1 by digit")
    if dims == 3:
        ax = fig.add_subplot(1, 4, 4, projection="3d")
        ax.scatter(codes[:, 0], codes[:, 1], codes[:, 2], c=colors, s=size, alpha=0.7, linewidths=0)
        ax.set_xlabel("z1")
        ax.set_ylabel("z2")
        ax.set_zlabel("z3")
        ax.set_title("3-D code")
    handles = [plt.Line2D([], [], marker="o", ls="", color=DIGIT_COLORS(d), label=str(d)) for d in range(10)]
    fig.legend(handles=handles, title="digit", loc="center right")
    fig.suptitle(f"Latent space of {len(codes):,} digits ({codes.shape[1] if dims > 1 else 1}-D code)")
    fig.tight_layout(rect=(0, 0, 0.95, 1))
    return fig


def plot_reconstructions(model, split):
    """Originals (top row) above their reconstructions (bottom row), one digit of each class."""
    idx = one_per_class(split)
    originals, labels = split.images[idx], split.labels[idx]
    reconstructions = reconstruct(model, to_float(originals)).squeeze(1)
    fig, ax = plt.subplots(figsize=(1.0 * len(originals) + 1.5, 2.8))
    _mosaic(ax, [list(originals), list(reconstructions)], ["original", "reconstruction"],
            [str(int(label)) for label in labels])
    ax.set_xlabel("digit")
    ax.set_title("Original vs reconstruction, one test digit of each class")
    fig.tight_layout()
    return fig


def plot_progress(split, snapshots, max_rows=8):
    """Reconstructions of split's one_per_class digits after selected epochs (rows), originals on top."""
    originals = split.images[one_per_class(split)]
    picks = np.unique(np.linspace(0, len(snapshots) - 1, min(max_rows, len(snapshots))).round().astype(int))
    rows = [list(originals)] + [list(snapshots[i]) for i in picks]
    fig, ax = plt.subplots(figsize=(1.0 * len(originals) + 1.5, 0.95 * len(rows) + 0.9))
    _mosaic(ax, rows, ["original"] + [f"epoch {i + 1}" for i in picks])
    ax.set_title("Reconstructions of fixed test digits during training")
    fig.tight_layout()
    return fig
