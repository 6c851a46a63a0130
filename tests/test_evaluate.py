import numpy as np
import pytest

from conae.evaluate import knn_accuracy


def test_knn_is_a_true_majority_vote():
    # Codes on a line. Test point 0.05 (a 1): its 5 neighbours are 1,1,1,7,9, so majority says 1,
    # where "take the largest label" (the original's loop) would say 9.
    # Test point 0.32 (a 7): its nearest neighbour is the 7, but its 5 neighbours vote 1.
    train = np.array([[0.0], [0.1], [0.2], [0.3], [0.4], [5.0]])
    train_labels = np.array([1, 1, 1, 7, 9, 9])
    test = np.array([[0.05], [0.32]])
    test_labels = np.array([1, 7])
    acc = knn_accuracy(train, train_labels, test, test_labels, ks=(1, 5))
    assert acc == {1: 1.0, 5: 0.5}


def test_knn_perfect_on_separated_clusters():
    rng = np.random.default_rng(0)
    centres = np.eye(3) * 10
    labels = np.repeat(np.arange(3), 20)
    codes = centres[labels] + rng.normal(0, 0.5, (60, 3))
    assert knn_accuracy(codes[::2], labels[::2], codes[1::2], labels[1::2], ks=(1, 5)) == \
        pytest.approx({1: 1.0, 5: 1.0})
