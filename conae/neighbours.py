"""The neighbour-preserving objective of the `neighbours` preset: each training image's code is pulled towards
that image's point in a UMAP layout of the training images, so that images that are neighbours in pixel space
stay close in code space, while the decoder still rebuilds every image from its code.

UMAP (McInnes, Healy and Melville 2018) lays the training images out in as many dimensions as the code has
numbers from their fuzzy k-nearest-neighbour graph in pixel space; the layout is standardised (zero mean, unit
variance) so that its scale does not depend on the data set. Only training images build it; test images are
only encoded. The term is weight * mean squared distance between code and layout point (see README, "A code
that keeps neighbours", for the candidates measured: the UMAP cross-entropy over the graph, as in parametric
UMAP, and this target, with and without shifted inputs).
"""
import time

import numpy as np
import torch
import torch.nn.functional as F

from .data import flat
from .errors import UserError


class NeighbourError(UserError):
    """The neighbour objective cannot be set up for this run."""


def check(cfg, n_train):
    """Raises NeighbourError where the training set is too small for the neighbour graph."""
    if cfg.neighbours and n_train <= cfg.n_neighbors:
        raise NeighbourError(f"the neighbours preset needs more training images than its {cfg.n_neighbors} "
                             f"neighbours per image; this run has {n_train}")


def layout(cfg, train_split, verbose=True):
    """(targets, seconds): the standardised UMAP layout of the training images as float32 [N, D], and the seconds
    it took. With more than cfg.layout_max images, UMAP is fitted on a fixed random subset of that many and the
    other images' rows are NaN (they get no neighbour term: the reconstruction still trains on them)."""
    import umap  # imported here: a plain run need not wait for numba

    start = time.perf_counter()
    n = len(train_split)
    fitted = np.arange(n)
    if n > cfg.layout_max:
        fitted = np.sort(np.random.default_rng(cfg.seed).choice(n, cfg.layout_max, replace=False))
    points = umap.UMAP(n_components=cfg.embedding_dim, n_neighbors=cfg.n_neighbors, min_dist=cfg.min_dist,
                       random_state=cfg.seed).fit_transform(flat(train_split.images[fitted]))
    points = (points - points.mean(axis=0)) / points.std()
    targets = np.full((n, cfg.embedding_dim), np.nan, np.float32)
    targets[fitted] = points
    seconds = time.perf_counter() - start
    if verbose:
        print(f"neighbour layout: UMAP of {len(fitted):,} training images in {seconds:.1f} s")
    return torch.from_numpy(targets), seconds


def neighbour_loss(codes, targets):
    """Mean squared distance between codes and their layout points, over the rows that have one."""
    known = ~targets.isnan().any(dim=1)
    if not known.any():
        return codes.sum() * 0
    return F.mse_loss(codes[known], targets[known])
