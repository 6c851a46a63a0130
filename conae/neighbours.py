"""The neighbour-preserving objective of the `neighbours` preset: each training image's code is pulled towards
that image's point in a UMAP layout of the training images, so that images that are neighbours in pixel space
stay close in code space, while the decoder still rebuilds every image from its code.

UMAP (McInnes, Healy and Melville 2018) lays the training images out in as many dimensions as the code has
numbers from their fuzzy k-nearest-neighbour graph; the pixel distances are measured in the images' first 50
principal components (cfg.layout_pca), which keep the main directions of variation and drop pixel noise. The
layout is standardised (centred, one scale for all dimensions) so that its size does not depend on the data
set. Only training images build it; test images are only encoded.

The term is weight * the mean squared distance between code and layout point; the weight falls linearly over
the run (cfg.neighbours_decay), so that the layout shapes the code early and the reconstructions refine it
late. The preset also shows the encoder each image slightly moved (shifted, turned, scaled), so that the code
of a new image lands among its neighbours' codes. docs/results.md, "A code that keeps neighbours", has what was measured
to choose this: layouts with other settings (raw pixels, more neighbours, t-SNE), a constant weight, no or
stronger moves, and a shorter budget.
"""
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA

from .compiled import import_umap
from .data import flat
from .errors import UserError
from .knn import exact_neighbours


class NeighbourError(UserError):
    """The neighbour objective cannot be set up for this run."""


def check_enough_images(cfg, n_train):
    """Raises NeighbourError where the training set is too small for the neighbour graph."""
    if cfg.neighbours and n_train <= cfg.n_neighbors:
        raise NeighbourError(f"the neighbours preset needs more training images than its {cfg.n_neighbors} "
                             f"neighbours per image; this run has {n_train}")


def layout(cfg, train_split, verbose=True):
    """(targets, seconds): the standardised UMAP layout of the training images as float32 [N, D], and the seconds
    it took. With more than cfg.layout_max images, UMAP is fitted on a fixed random subset of that many and the
    other images' rows are NaN (they get no neighbour term: the reconstruction still trains on them)."""
    start = time.perf_counter()
    threads = torch.get_num_threads()
    umap = import_umap()  # imported here: a plain run need not load numba

    n = len(train_split)
    fitted = np.arange(n)
    if n > cfg.layout_max:
        fitted = np.sort(np.random.default_rng(cfg.seed).choice(n, cfg.layout_max, replace=False))
    pixels = flat(train_split.images[fitted])
    if cfg.layout_pca and cfg.layout_pca < min(pixels.shape):
        # pixel distances within the main directions of variation, without the noise of the rest
        pixels = PCA(cfg.layout_pca, random_state=cfg.seed).fit_transform(pixels)
    # exact nearest neighbours: UMAP's own approximate search would first compile itself with numba (docs/results.md,
    # "A code that keeps neighbours", has the seconds)
    neighbours, distances = exact_neighbours(pixels, cfg.n_neighbors)
    with warnings.catch_warnings():  # "transform will be unavailable": the layout never places new images
        warnings.simplefilter("ignore", UserWarning)
        points = umap.UMAP(n_components=cfg.embedding_dim, n_neighbors=cfg.n_neighbors, min_dist=cfg.min_dist,
                           random_state=cfg.seed, n_jobs=1,
                           precomputed_knn=(neighbours, distances.astype(np.float32), None)).fit_transform(pixels)
    torch.set_num_threads(threads)  # UMAP's numba resets OpenMP's thread count, which torch's is: the run keeps its own
    points = points - points.mean(axis=0)
    points /= points.std()  # one scale for all dimensions: the layout's shape is kept
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
