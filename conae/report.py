"""What a run leaves behind: metrics.json, the figures, the checkpoint. Shared by the CLI and the notebook."""
import json
import os
from dataclasses import asdict
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from . import viz
from .analysis import pca_baseline
from .atomic import atomic_write
from .evaluate import recognition, split_codes
from .train import pick_device


def collect_metrics(cfg, train_split, test_split, model, history):
    """The metrics.json dict: headline numbers, data sources, timing, config and per-epoch history, then
    recognition in depth (k-NN for k = 1..25, best k, confusion matrix, linear probe) and the same numbers
    for PCA with as many components as the code has numbers."""
    train_seconds = sum(h["seconds"] for h in history)
    train_codes, test_codes, test_bce = split_codes(model, train_split, test_split)
    rec = recognition(train_codes, train_split.labels.numpy(), test_codes, test_split.labels.numpy())
    return dict(
        test_bce=test_bce,
        knn_accuracy={str(k): rec["knn_accuracy"][str(k)] for k in cfg.knn_k},
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
        classes=list(test_split.classes),
        recognition=rec,
        pca_baseline=pca_baseline(train_split, test_split, cfg.embedding_dim),
    )


def make_figures(model, train_split, test_split, history, snapshots, metrics):
    """Every figure of a run, by the name its PNG gets (the notebook's figure cells use the same names)."""
    rec, pca = metrics["recognition"], metrics["pca_baseline"]
    figures = {
        "samples": lambda: viz.plot_samples(train_split),
        "training_curve": lambda: viz.plot_loss(history),
        "training_progress": lambda: viz.plot_progress(test_split, snapshots),
        "latent_space": lambda: viz.plot_latent(model, test_split),
        "reconstructions": lambda: viz.plot_reconstructions(model, test_split),
        "knn_curve": lambda: viz.plot_knn_curve(rec, pca),
        "confusion_matrix": lambda: viz.plot_confusion(rec, test_split.classes),
        "pca_comparison": lambda: viz.plot_pca_comparison(model, train_split, test_split, metrics["test_bce"],
                                                          pca["test_bce"]),
        "decoder_map": lambda: viz.plot_decoder_map(model, test_split),
        "interpolations": lambda: viz.plot_interpolations(model, test_split),
        "latent_views": lambda: viz.plot_latent_views(model, test_split),
    }
    if model.embedding_dim < 3:
        del figures["latent_views"]  # it draws three code dimensions
    return figures


def write_json(path, obj):
    text = json.dumps(obj, indent=2) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text))


def save_run(out_dir, metrics, figures):
    """metrics.json and every figure (name -> function drawing it) as NAME.png in out_dir (fit() keeps the
    checkpoint there itself). Figures are drawn one at a time, so only one is in memory."""
    out = Path(out_dir)
    os.makedirs(out, exist_ok=True)
    write_json(out / "metrics.json", metrics)
    for name, draw in figures.items():
        save_figure(out / f"{name}.png", draw())


def save_figure(path, fig):
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight"))
    plt.close(fig)


def baseline_table(metrics):
    """The autoencoder beside PCA of the same code size, as a Markdown table (notebook and README)."""
    rec, pca = metrics["recognition"], metrics["pca_baseline"]
    size = metrics["config"]["embedding_dim"]
    lines = ["| code of " + str(size) + " numbers | test BCE | 1-NN | 5-NN | best k-NN | linear probe |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, bce, r in (("autoencoder", metrics["test_bce"], rec), (f"PCA, {size} components", pca["test_bce"], pca)):
        knn = r["knn_accuracy"]
        lines.append(f"| {name} | {bce:.4f} | {knn['1']:.3f} | {knn['5']:.3f} | "
                     f"{r['best_knn_accuracy']:.3f} (k = {r['best_k']}) | {r['linear_probe_accuracy']:.3f} |")
    return "\n".join(lines)
