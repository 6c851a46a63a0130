"""What the code knows beyond the headline numbers: a PCA baseline of the same size, points of code space
to decode (grids over planes, interpolations), and a sweep over code sizes."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA

from .evaluate import recognition, split_codes
from .train import fit, in_batches

PCA_CLIP = 1e-3  # PCA reconstructions leave [0, 1]; clipped to [PCA_CLIP, 1 - PCA_CLIP] so their BCE is finite


def flat(images):
    """uint8 images [N, 28, 28] -> float32 rows [N, 784] in [0, 1], as PCA takes them."""
    return images.reshape(len(images), -1).numpy().astype(np.float32) / 255


def fit_pca(train_split, n_components):
    """PCA with n_components fitted on the training images (pixels in [0, 1])."""
    return PCA(n_components, svd_solver="randomized", random_state=0).fit(flat(train_split.images))


def pca_reconstruct(pca, images):
    """uint8 images [N, 28, 28] -> their PCA reconstructions, float [N, 28, 28] clipped into (0, 1)."""
    rebuilt = pca.inverse_transform(pca.transform(flat(images))).clip(PCA_CLIP, 1 - PCA_CLIP)
    return torch.from_numpy(rebuilt.astype(np.float32)).reshape(-1, 28, 28)


def bce(reconstructions, images):
    """Mean per-pixel binary cross-entropy of float reconstructions in (0, 1) against uint8 images."""
    x = images.float() / 255
    r = reconstructions.double()
    return float(-(x * r.log() + (1 - x) * (1 - r).log()).mean())


def pca_baseline(train_split, test_split, n_components):
    """PCA's test BCE and recognition numbers with a code of n_components numbers, like the autoencoder's."""
    pca = fit_pca(train_split, n_components)
    train_codes, test_codes = pca.transform(flat(train_split.images)), pca.transform(flat(test_split.images))
    return dict(test_bce=bce(pca_reconstruct(pca, test_split.images), test_split.images),
                explained_variance=float(pca.explained_variance_ratio_.sum()),
                **recognition(train_codes, train_split.labels.numpy(), test_codes, test_split.labels.numpy()))


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


def decode(model, codes):
    """float images [N, 28, 28] in [0, 1] decoded from codes [N, D] (numpy)."""
    model.eval()
    return in_batches(model.decode, torch.as_tensor(codes, dtype=torch.float32)).squeeze(1)


def sweep(cfg, dims, train_split, test_split, out_dir=None, verbose=True):
    """Trains one model per code size in dims with cfg's recipe; one row per size: the autoencoder's and
    PCA's test BCE, k-NN (k = 1 and 5) and linear-probe accuracy, and the training seconds.
    With out_dir, each model is checkpointed in out_dir/dim-N/model.pt."""
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
        pca = pca_baseline(train_split, test_split, dim)
        rows.append(dict(
            embedding_dim=dim, test_bce=test_bce, knn_accuracy=ae["knn_accuracy"],
            linear_probe_accuracy=ae["linear_probe_accuracy"], train_seconds=sum(h["seconds"] for h in history),
            pca=dict(test_bce=pca["test_bce"], knn_accuracy={k: pca["knn_accuracy"][k] for k in ("1", "5")},
                     linear_probe_accuracy=pca["linear_probe_accuracy"])))
    return rows
