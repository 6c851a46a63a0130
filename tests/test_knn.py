"""The one k-NN vote (winner, share, runner-up, and the tie rule that evaluation, recognition and the explorer
share), and the exact neighbour lists UMAP is handed."""
import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from conae.evaluate import knn_predictions
from conae.knn import exact_neighbours, nearest, neighbour_index, vote


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


def test_exact_neighbours_put_each_point_first_at_exactly_zero_as_umap_expects():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(50, 20))
    indices, distances = exact_neighbours(points, 6)
    assert indices.shape == distances.shape == (50, 6)
    assert (indices[:, 0] == np.arange(50)).all() and (distances[:, 0] == 0).all()  # not a rounding's 3e-7
    assert (distances[:, 1:] > 0).all()  # UMAP reads the first of these as the nearest other point's distance
    for i in (0, 17):
        others = np.delete(np.linalg.norm(points - points[i], axis=1), i)
        assert np.allclose(distances[i, 1:], np.sort(others)[:5])
        assert set(indices[i, 1:]) == set(np.delete(np.arange(50), i)[np.argsort(others)[:5]])
    queries = rng.normal(size=(4, 20))
    placed, placed_distances = exact_neighbours(points, 3, queries)
    assert placed.shape == (4, 3)
    assert np.allclose(placed_distances[2], np.sort(np.linalg.norm(points - queries[2], axis=1))[:3])


def test_ties_among_many_classes_go_to_the_smallest_label_and_one_class_has_no_runner_up():
    labels = np.array([[29, 3, 17, 3, 29, 17, 11, 11, 5]])  # 3, 11, 17 and 29 tie at two votes of nine
    chosen = vote(labels, n_classes=30)
    assert (chosen.winner[0], chosen.runner_up[0]) == (3, 11)
    assert chosen.share[0] == pytest.approx(2 / 9) and chosen.runner_up_share[0] == pytest.approx(2 / 9)
    alone = vote(np.zeros((2, 4), dtype=int), n_classes=1)
    assert alone.winner.tolist() == [0, 0] and alone.share.tolist() == [1.0, 1.0]
    assert alone.runner_up.tolist() == [-1, -1] and alone.runner_up_share.tolist() == [0.0, 0.0]


def test_nearest_lists_the_nearest_first_and_no_distances():
    index = neighbour_index(np.array([[0.0], [10.0], [3.0], [1.0]]))
    assert nearest(index, [[0.4]], 3).tolist() == [[0, 3, 2]]
    assert nearest(index, np.array([[9.0], [2.4]]), 1).tolist() == [[1], [2]]
