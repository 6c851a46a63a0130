"""Nearest neighbours, exact (Euclidean, scikit-learn): the k-nearest-neighbour vote, which evaluation, recognition
and the explorer all use (a code gets the class most of its k nearest training codes have; ties go to the smallest
tied label, scikit-learn's rule), and the neighbour lists UMAP is handed (the neighbour layout, the UMAP
baseline)."""
from typing import NamedTuple

import numpy as np
from sklearn.neighbors import NearestNeighbors


class Vote(NamedTuple):
    """One vote per code: arrays [N]. runner_up is -1 where no other class got a vote."""
    winner: np.ndarray
    share: np.ndarray
    runner_up: np.ndarray
    runner_up_share: np.ndarray


def neighbour_index(train_codes):
    """A search structure over the training codes (a tree: fast at 60,000 codes)."""
    return NearestNeighbors().fit(train_codes)


def nearest(index, codes, k):
    """Indices [N, k] of the k nearest training codes of each code, nearest first (k at most the training set)."""
    return index.kneighbors(np.asarray(codes), n_neighbors=min(k, index.n_samples_fit_), return_distance=False)


def vote(neighbour_labels, n_classes):
    """The vote of each row of neighbour labels [N, k]."""
    # [N, class]; two classes at least, so that a one-class set has a runner-up too: one with no votes, hence none
    counts = np.eye(max(n_classes, 2), dtype=np.int32)[neighbour_labels].sum(axis=1)
    ranked = np.argsort(-counts, axis=1, kind="stable")  # most votes first; among equals the smallest label
    rows, k = np.arange(len(counts)), neighbour_labels.shape[1]
    winner, second = ranked[:, 0], ranked[:, 1]
    second_share = counts[rows, second] / k
    return Vote(winner, counts[rows, winner] / k, np.where(second_share > 0, second, -1), second_share)


def exact_neighbours(points, k, queries=None):
    """(indices [N, k], distances [N, k]) of the k nearest points of each query, nearest first. Without queries,
    of each point among the points themselves, as UMAP's own search gives them: the point itself first, at a
    distance of exactly 0 (UMAP reads the first distance above 0 as the nearest other point's), then its k - 1
    nearest others."""
    if queries is not None:
        distances, indices = NearestNeighbors(n_neighbors=k).fit(points).kneighbors(queries)
        return indices, distances
    distances, indices = NearestNeighbors(n_neighbors=k - 1).fit(points).kneighbors()  # each point's others
    itself = np.arange(len(points))[:, None]
    return np.hstack([itself, indices]), np.hstack([np.zeros_like(itself, dtype=distances.dtype), distances])
