"""What a run leaves behind: metrics.json, the figures, the checkpoint. Shared by the CLI and the notebook."""
import json
import os
from dataclasses import asdict
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from . import viz
from .atomic import atomic_write
from .evaluate import evaluate
from .train import pick_device


def collect_metrics(cfg, train_split, test_split, model, history):
    """The metrics.json dict: headline numbers, data sources, timing, config and per-epoch history."""
    train_seconds = sum(h["seconds"] for h in history)
    return dict(
        **evaluate(model, train_split, test_split, cfg.knn_k),
        train_seconds=train_seconds,
        images_per_second=len(train_split) * len(history) / train_seconds if train_seconds else 0.0,
        n_train=len(train_split),
        n_test=len(test_split),
        train_source=train_split.source,
        test_source=test_split.source,
        device=str(pick_device(cfg.device)),
        torch_version=torch.__version__,
        config=asdict(cfg),
        epochs=history,
    )


def make_figures(model, train_split, test_split, history, snapshots):
    """Every figure of a run, by the name its PNG gets (the notebook's figure cells use the same names)."""
    return {
        "samples": viz.plot_samples(train_split),
        "training_curve": viz.plot_loss(history),
        "latent_space": viz.plot_latent(model, test_split),
        "reconstructions": viz.plot_reconstructions(model, test_split),
        "training_progress": viz.plot_progress(test_split, snapshots),
    }


def write_json(path, obj):
    text = json.dumps(obj, indent=2) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text))


def save_run(out_dir, metrics, figures):
    """metrics.json and every figure as NAME.png in out_dir (fit() keeps the checkpoint there itself)."""
    out = Path(out_dir)
    os.makedirs(out, exist_ok=True)
    write_json(out / "metrics.json", metrics)
    for name, fig in figures.items():
        atomic_write(out / f"{name}.png", lambda tmp: fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight"))
        plt.close(fig)
