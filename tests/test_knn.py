"""The one k-NN vote: winner, share, runner-up, and the tie rule that evaluation, recognition and the explorer
share."""
import numpy as np
from sklearn.neighbors import KNeighborsClassifier

from conae.evaluate import knn_predictions
from conae.knn import nearest, neighbour_index, vote


def test_the_vote_counts_shares_and_names_the_runner_up():
    chosen = vote(np.array([[3, 3, 1, 3, 1], [2, 2, 2, 2, 2], [4, 1, 4, 1, 0]]), n_classes=5)
    assert chosen.winner.tolist() == [3, 2, 1]  # the last row ties 1 and 4 at two votes: the smaller label wins
    assert chosen.share.tolist() == [0.6, 1.0, 0.4]
    assert chosen.runner_up.tolist() == [1, -1, 4]  # -1: no other class got a vote
    assert chosen.runner_up_share.tolist() == [0.4, 0.0, 0.4]


def test_the_vote_agrees_with_scikit_learn_on_every_k():
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(200, 3)), rng.normal(size=(100, 3))
    labels = rng.integers(0, 10, 200)
    index = neighbour_index(train)
    closest = nearest(index, test, 7)
    assert closest.shape == (100, 7)
    predictions = knn_predictions(train, labels, test, ks=(1, 4, 7))
    for k in (1, 4, 7):
        expected = KNeighborsClassifier(k).fit(train, labels).predict(test)
        assert np.array_equal(predictions[k], expected)
        assert np.array_equal(vote(labels[closest[:, :k]], 10).winner, expected)


def test_nearest_asks_for_no_more_neighbours_than_there_are_training_codes():
    index = neighbour_index(np.zeros((3, 2)))
    assert nearest(index, np.zeros((1, 2)), 5).shape == (1, 3)
