"""What the code knows beyond the headline numbers: points of code space to decode (grids over planes,
interpolations), and a sweep over code sizes."""
from dataclasses import replace
from pathlib import Path

import numpy as np

from .baselines import run_baseline
from .config import check_setting
from .evaluate import recognition, split_codes
from .train import fit


def plane_grid(codes, dims, n):
    """Codes on a regular n x n grid over code dimensions dims (a pair) from the 1st to the 99th percentile
    of codes, the other dimensions at the codes' mean; row-major, the second dimension falling row by row
    (so that it points up in a picture). Returns (grid [n*n, D], values along dims[0], along dims[1])."""
    low, high = np.percentile(codes, [1, 99], axis=0)
    along = [np.linspace(low[d], high[d], n) for d in dims]
    grid = np.tile(codes.mean(axis=0), (n * n, 1))
    rows, cols = np.meshgrid(along[1][::-1], along[0], indexing="ij")
    grid[:, dims[0]], grid[:, dims[1]] = cols.ravel(), rows.ravel()
    return grid.astype(np.float32), along[0], along[1]


def interpolation(start, end, steps):
    """steps codes evenly spaced from start to end, both included."""
    t = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
    return (1 - t) * start + t * end


def sweep(cfg, dims, train_split, test_split, out_dir=None, verbose=True):
    """Trains one model per code size in dims with cfg's recipe; one row per size: the autoencoder's and
    PCA's test BCE, k-NN (k = 1 and 5) and linear-probe accuracy, and the training seconds.
    With out_dir, each model is checkpointed in out_dir/dim-N/model.pt."""
    for dim in dims:
        check_setting("embedding_dim", dim)
    rows = []
    for dim in dims:
        if verbose:
            print(f"embedding_dim {dim}:")
        run = replace(cfg, embedding_dim=dim)
        checkpoint = Path(out_dir) / f"dim-{dim}" / "model.pt" if out_dir else None
        if checkpoint:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
        model, history, _ = fit(run, train_split, test_split, verbose=verbose, checkpoint=checkpoint)
        train_codes, test_codes, test_bce = split_codes(model, train_split, test_split)
        ae = recognition(train_codes, train_split.labels.numpy(), test_codes, test_split.labels.numpy(), ks=(1, 5))
        pca = run_baseline("pca", train_split, test_split, dim)
        rows.append(dict(
            embedding_dim=dim, test_bce=test_bce, knn_accuracy=ae["knn_accuracy"],
            linear_probe_accuracy=ae["linear_probe_accuracy"], train_seconds=sum(h["seconds"] for h in history),
            pca=dict(test_bce=pca["test_bce"], knn_accuracy={k: pca["knn_accuracy"][k] for k in ("1", "5")},
                     linear_probe_accuracy=pca["linear_probe_accuracy"])))
    return rows
