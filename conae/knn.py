"""The k-nearest-neighbour vote: a code gets the class most of its k nearest training codes (Euclidean) have.
Ties go to the smallest tied label (scikit-learn's rule). Evaluation, recognition and the explorer all use it."""
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
    counts = np.eye(n_classes, dtype=np.int32)[neighbour_labels].sum(axis=1)  # [N, class]
    ranked = np.argsort(-counts, axis=1, kind="stable")  # most votes first; among equals the smallest label
    rows, k = np.arange(len(counts)), neighbour_labels.shape[1]
    winner, second = ranked[:, 0], ranked[:, 1] if n_classes > 1 else np.full(len(counts), -1)
    second_share = counts[rows, second] / k if n_classes > 1 else np.zeros(len(counts))
    return Vote(winner, counts[rows, winner] / k, np.where(second_share > 0, second, -1), second_share)
