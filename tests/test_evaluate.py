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


def test_the_last_points_test_bce_is_bitwise_the_one_split_codes_computes(splits):
    from conae.config import make_config
    from conae.evaluate import split_codes
    from conae.train import fit
    train, test = splits
    model, history, _ = fit(make_config("default", steps=12, batch_size=16), train, test, verbose=False)
    assert history[-1]["scored_images"] == len(test)
    scored = split_codes(model, train, test)
    assert scored[2] == history[-1]["test_bce"]  # so conae train may hand the last point's BCE to split_codes
    decoded = []
    real_decode = model.decode
    model.decode = lambda z: decoded.append(len(z)) or real_decode(z)
    reused = split_codes(model, train, test, test_bce=history[-1]["test_bce"])
    assert decoded == []  # handed the BCE, it only encodes: the test set is not decoded again
    assert all(np.array_equal(a, b) for a, b in zip(scored[:2], reused[:2]))
    split_codes(model, train, test)
    assert sum(decoded) == len(test)  # not handed it, it decodes every test image once


def test_headline_keeps_the_grid_numbers_only():
    from conae.evaluate import headline
    result = dict(test_bce=0.2, knn_accuracy={"1": 0.5, "3": 0.55, "5": 0.6}, linear_probe_accuracy=0.7, best_k=3)
    assert headline(result) == dict(test_bce=0.2, knn_accuracy={"1": 0.5, "5": 0.6}, linear_probe_accuracy=0.7)


def test_recognition_on_a_tiny_training_set_and_a_class_only_the_test_set_has():
    from conae.evaluate import recognition
    train, train_labels = np.array([[0.0], [1.0], [5.0]]), np.array([0, 0, 1])
    test, test_labels = np.array([[0.2], [5.2], [4.0]]), np.array([0, 1, 2])  # class 2: no training code has it
    rec = recognition(train, train_labels, test, test_labels)
    assert list(rec["knn_accuracy"]) == ["1", "2", "3"]  # at most as many neighbours as training codes
    assert rec["knn_accuracy"]["1"] == pytest.approx(2 / 3) and rec["best_k"] == 1
    assert rec["knn_accuracy"]["3"] == pytest.approx(1 / 3)  # three voters: class 0 everywhere
    assert np.array(rec["confusion_matrix"]).tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 0]]
    assert recognition(train, train_labels, test, test_labels, ks=(5, 7))["knn_accuracy"] == {"1": pytest.approx(2 / 3)}
    gap = recognition(train, np.array([0, 0, 2]), test, np.array([0, 2, 2]), ks=(1,))  # class 1 nowhere
    assert np.array(gap["confusion_matrix"]).tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 2]]  # its row and column kept


def test_the_linear_probe_standardises_the_codes_first():
    from conae.evaluate import linear_probe_accuracy
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    # the class is in the second number, a thousandth of the first's scale: only a standardised probe finds it
    codes = np.column_stack([rng.normal(0, 1000, 400), labels * 0.002 + rng.normal(0, 0.0003, 400)])
    assert linear_probe_accuracy(codes[:300], labels[:300], codes[300:], labels[300:]) > 0.95


def split_of(images, labels, classes=("a", "b", "c")):
    import torch

    from conae.datasets import Split
    return Split(torch.as_tensor(np.asarray(images, np.uint8)), torch.as_tensor(labels, dtype=torch.int64), "test",
                 classes)


def test_the_bce_yardsticks_on_pixels_whose_cost_is_known():
    from conae.evaluate import bce_yardsticks
    black, white, grey = (np.full((1, 28, 28), v) for v in (0, 255, 51))  # grey: 0.2
    half = bce_yardsticks(split_of(np.concatenate([black, white]), [0, 1]), split_of(np.concatenate([grey, black]), [0, 0]))
    assert half["mean_image"] == pytest.approx(np.log(2))  # a mean image of 0.5 costs log 2 whatever the pixel
    entropy = -(0.2 * np.log(0.2) + 0.8 * np.log(0.8))  # what an exact grey pixel still costs; a black one, nothing
    assert half["floor"] == pytest.approx(entropy / 2, rel=1e-4)
    # a pixel white in every training image but black in the test one: the mean kept a millionth from 1, not log 0
    assert bce_yardsticks(split_of(white, [0]), split_of(black, [0]))["mean_image"] == pytest.approx(-np.log(1e-6),
                                                                                                      rel=1e-3)


def test_bce_by_class_scores_each_class_s_own_images():
    import torch

    from conae.evaluate import bce_by_class

    class Identity(torch.nn.Module):  # rebuilds every image exactly: each BCE is its pixels' entropy
        def __init__(self):
            super().__init__()
            self.unused = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return x

    images = np.stack([np.zeros((28, 28)), np.zeros((28, 28)), np.full((28, 28), 51)])
    by_class = bce_by_class(Identity(), split_of(images, [0, 0, 1]))
    assert list(by_class) == ["a", "b"]  # class c has no image
    assert by_class["a"] == 0 and by_class["b"] == pytest.approx(-(0.2 * np.log(0.2) + 0.8 * np.log(0.8)), rel=1e-4)


def test_class_accuracy_and_the_top_confusions_read_each_row_as_shares_of_its_class():
    from conae.evaluate import class_accuracy, top_confusions
    rec = {"confusion_matrix": [[8, 2, 0], [0, 5, 5], [0, 0, 0]]}  # rows: true a, b, c (no test image of c)
    assert class_accuracy(rec, ("a", "b", "c")) == {"a": 0.8, "b": 0.5}
    assert top_confusions(rec, ("a", "b", "c")) == [("b", "c", 0.5), ("a", "b", 0.2)]  # only mistakes, largest first
    assert top_confusions(rec, ("a", "b", "c"), n=1) == [("b", "c", 0.5)]
