"""What a run leaves behind: metrics.json, the figures, the checkpoint. Shared by the CLI and the notebook."""
import json
import time
from dataclasses import asdict
from pathlib import Path

from . import viz
from .atomic import save_figure, write_json
from .baselines import pca_reconstructions, run_baselines
from .config import BASELINE_NAMES, BASELINES, HEADLINE_K
from .data import one_per_class
from .datasets import dataset_title
from .device import pick_device, resolve_precision
from .environment import environment
from .evaluate import bce_yardsticks, recognition, split_codes


def collect_metrics(cfg, train_split, test_split, model, history, codes=None, baselines=("pca",)):
    """The metrics.json dict: headline numbers, data sources, timing, the budget spent, config, environment and
    the history (one entry per recorded point, under "epochs"), then recognition in depth (k-NN for k = 1..25,
    best k, confusion matrix, linear probe) and the same numbers for each baseline of the code's size.
    codes: (train codes, test codes, test BCE) from conae.evaluate.split_codes, if the caller has them."""
    train_seconds = sum(h["seconds"] for h in history)
    last = history[-1]
    device = pick_device(cfg.device)
    precision = resolve_precision(cfg.precision, device)
    train_codes, test_codes, test_bce = codes or split_codes(model, train_split, test_split)
    rec = recognition(train_codes, train_split.labels.numpy(), test_codes, test_split.labels.numpy())
    return dict(
        test_bce=test_bce,
        bce_yardsticks=bce_yardsticks(train_split, test_split),
        knn_accuracy={str(k): rec["knn_accuracy"][str(k)] for k in HEADLINE_K},
        train_seconds=train_seconds,
        images_per_second=last["images_seen"] / train_seconds if train_seconds else 0.0,
        steps=last["step"],
        images_seen=last["images_seen"],
        epochs_done=last["epoch"],
        n_train=len(train_split),
        n_test=len(test_split),
        train_source=train_split.source,
        test_source=test_split.source,
        device=str(device),
        precision=precision,
        environment=environment(device, neighbour_methods=bool(set(baselines) - {"pca"}), precision=precision),
        config=asdict(cfg),
        epochs=history,
        classes=list(test_split.classes),
        recognition=rec,
        **run_baselines(baselines, train_split, test_split, cfg.embedding_dim),
    )


def make_figures(model, train_split, test_split, history, snapshots, metrics, test_codes=None):
    """Every figure of a run, by the name its PNG gets (the notebook's figure cells use the same names);
    test_codes: the test images' codes, where the caller has them."""
    rec = metrics["recognition"]
    pca_bce = metrics.get("pca_baseline", {}).get("test_bce")
    figures = {
        "samples": lambda: viz.plot_samples(train_split),
        "training_curve": lambda: viz.plot_loss(history, metrics.get("bce_yardsticks")),
        "training_progress": lambda: viz.plot_progress(test_split, snapshots, history),
        "latent_space": lambda: viz.plot_latent(model, test_split, codes=test_codes),
        "reconstructions": lambda: viz.plot_reconstructions(model, test_split),
        "knn_curve": lambda: viz.plot_knn_curve(rec, baselines_of(metrics)),
        "confusion_matrix": lambda: viz.plot_confusion(rec, test_split.classes),
        "pca_comparison": lambda: viz.plot_pca_comparison(
            model, test_split, pca_reconstructions(train_split, test_split, model.embedding_dim,
                                                   one_per_class(test_split)), metrics["test_bce"], pca_bce),
        "decoder_map": lambda: viz.plot_decoder_map(model, test_split, codes=test_codes),
        "interpolations": lambda: viz.plot_interpolations(model, test_split),
    }
    return figures


def saved_results(path, dataset, what, how):
    """The results saved at path (a sweep.json or comparison.json) if they were made on dataset; else None,
    saying so and how to make them (a sweep or comparison of one data set is never shown as another's)."""
    title = dataset_title(dataset)
    try:
        saved = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        print(f"No {what} saved for {title} ({path} cannot be read): make one with {how}")
        return None
    made_on = saved.get("dataset") or saved.get("config", {}).get("dataset", "mnist")
    if made_on != dataset:
        print(f"No {what} saved for {title} ({path} was made on {dataset_title(made_on)}): make one with {how} "
              "and point this notebook at its file")
        return None
    return saved


def save_run(out_dir, metrics, figures, after_training=None):
    """Every figure (name -> function drawing it) as NAME.png in out_dir, then metrics.json (fit() keeps the
    checkpoint there itself). Figures are drawn one at a time, so only one is in memory. after_training: the
    time.perf_counter() at which training ended; metrics.json then says how long the rest took."""
    out = Path(out_dir)
    start = time.perf_counter()
    for name, draw in figures.items():
        save_figure(out / f"{name}.png", draw())
    if "phase_seconds" in metrics:
        metrics["phase_seconds"]["figures"] = time.perf_counter() - start
    if after_training is not None:
        metrics["seconds_after_training"] = time.perf_counter() - after_training
    write_json(out / "metrics.json", metrics)


def baselines_of(metrics):
    """{"PCA": its numbers, "UMAP": ..., "t-SNE": ...} for the baselines metrics holds, in BASELINES order."""
    return {BASELINE_NAMES[b]: metrics[f"{b}_baseline"] for b in BASELINES if f"{b}_baseline" in metrics}


def baseline_table(metrics, others=None):
    """The autoencoder beside every baseline of the same code size, as a Markdown table (notebook and docs/results.md);
    others: more codes to list after the autoencoder ({name: dict with test_bce and recognition's numbers});
    a method without a decoder has no test BCE (a dash)."""
    size = metrics["config"]["embedding_dim"]
    rows = [("autoencoder", dict(metrics["recognition"], test_bce=metrics["test_bce"]))]
    rows += list((others or {}).items())
    rows += [(f"{name}, {size} components", r) for name, r in baselines_of(metrics).items()]
    return viz.markdown_table(
        [f"code of {size} numbers", "test BCE", *viz.knn_columns(), "best k-NN", "linear probe"],
        [[name, "-" if r["test_bce"] is None else f"{r['test_bce']:.4f}", *viz.knn_cells(r),
          f"{r['best_knn_accuracy']:.3f} (k = {r['best_k']})", f"{r['linear_probe_accuracy']:.3f}"] for name, r in rows])
