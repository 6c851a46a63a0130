"""Recognition in depth, the PCA baseline, the maps of code space and their figures."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.neighbors import KNeighborsClassifier

from conae import analysis, baselines, viz
from conae.data import subset
from conae.evaluate import KS, knn_accuracy, knn_predictions, recognition
from conae.model import ConvAE


def clusters(n, seed=0, spread=0.5):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 4
    return np.eye(4)[labels, :3] * 5 + rng.normal(0, spread, (n, 3)), labels


def test_one_neighbour_search_votes_like_scikit_learn_for_every_k():
    train, train_labels = clusters(300, seed=1, spread=3.0)  # overlapping clusters: many split votes
    test, _ = clusters(200, seed=2, spread=3.0)
    predictions = knn_predictions(train, train_labels, test, KS)
    for k in KS:
        expected = KNeighborsClassifier(n_neighbors=k).fit(train, train_labels).predict(test)
        assert np.array_equal(predictions[k], expected), f"k={k}"


def test_ties_go_to_the_smallest_label():
    train, train_labels = np.array([[0.0], [1.0], [-2.0], [3.0]]), np.array([3, 1, 1, 3])
    # k=2: one vote each for 3 and 1 -> 1; k=4: two each -> 1
    assert knn_accuracy(train, train_labels, np.array([[0.1]]), np.array([1]), ks=(1, 2, 4)) == {1: 0.0, 2: 1.0, 4: 1.0}


def test_recognition_best_k_confusion_and_probe():
    train, train_labels = clusters(200, seed=1)
    test, test_labels = clusters(80, seed=2)
    test_labels = test_labels.copy()
    test_labels[:4] = 3  # four test points whose true class sits elsewhere: each k gets them wrong
    rec = recognition(train, train_labels, test, test_labels)
    assert list(rec["knn_accuracy"]) == [str(k) for k in KS]
    assert rec["best_k"] == 1 and rec["best_knn_accuracy"] == pytest.approx(1 - 3 / 80)  # one of the 4 was a 3
    matrix = np.array(rec["confusion_matrix"])
    assert matrix.shape == (4, 4) and matrix.sum(axis=1).tolist() == np.bincount(test_labels).tolist()
    assert matrix[3, 1] == 1 and matrix[3, 2] == 1  # true 3, predicted as their cluster
    assert rec["linear_probe_accuracy"] == pytest.approx(1 - 3 / 80)


def test_best_k_is_the_smallest_of_the_most_accurate():
    # a 1-NN mistake (and a k=2 tie, which goes to the wrong, smaller label) mended by k >= 3:
    # best k is 3, not a larger k with the same accuracy
    train, train_labels = np.array([[0.0], [0.2], [0.3], [0.35], [9.0]]), np.array([0, 1, 1, 1, 0])
    rec = recognition(train, train_labels, np.array([[0.05]]), np.array([1]), ks=(1, 2, 3, 4, 5))
    assert rec["knn_accuracy"] == {"1": 0.0, "2": 0.0, "3": 1.0, "4": 1.0, "5": 1.0} and rec["best_k"] == 3


def test_bce_matches_torch_and_pca_with_every_component_rebuilds_the_images(splits):
    train, test = splits
    r = torch.rand(5, 28, 28).clamp(0.01, 0.99)
    assert baselines.bce(r, test.images[:5]) == pytest.approx(
        F.binary_cross_entropy(r, test.images[:5].float() / 255).item(), rel=1e-5)
    few = subset(train, 30)
    full = baselines.fit_pca(few, 29)  # 30 centred images span at most 29 dimensions: nothing is lost
    rebuilt = baselines.pca_reconstruct(full, few.images)
    assert (rebuilt - few.images.float() / 255).abs().max() < 0.01


def test_pca_baseline_numbers(splits):
    train, test = splits
    three, eight = baselines.run_baseline("pca", train, test, 3), baselines.run_baseline("pca", train, test, 8)
    assert 0 < eight["test_bce"] < three["test_bce"] < 1  # more components, better reconstructions
    assert 0 < three["explained_variance"] < eight["explained_variance"] <= 1
    assert three["best_knn_accuracy"] > 0.5  # the bar's height is the class, so PCA sees it
    assert set(three) >= {"knn_accuracy", "best_k", "confusion_matrix", "linear_probe_accuracy"}


def test_plane_grid_spans_the_codes_with_the_rest_at_the_mean():
    codes = np.random.default_rng(0).normal(size=(1000, 4)) * [1, 2, 3, 4]
    grid, along_a, along_b = analysis.plane_grid(codes, (1, 3), 5)
    assert grid.shape == (25, 4)
    assert np.allclose(grid[:, [0, 2]], codes.mean(axis=0)[[0, 2]])
    assert along_a[0] == pytest.approx(np.percentile(codes[:, 1], 1)) and \
        along_a[-1] == pytest.approx(np.percentile(codes[:, 1], 99))
    picture = grid.reshape(5, 5, 4)
    assert np.allclose(picture[0, :, 1], along_a) and np.allclose(picture[:, 0, 3], along_b[::-1])  # up is high


def test_interpolation_runs_from_start_to_end():
    path = analysis.interpolation(np.array([0.0, 2.0]), np.array([1.0, -2.0]), 5)
    assert np.allclose(path[:, 0], [0, 0.25, 0.5, 0.75, 1]) and np.allclose(path[[0, -1], 1], [2, -2])


def close(fig):
    assert fig._suptitle or all(ax.get_title() for ax in fig.axes if ax.get_label() != "<colorbar>")
    plt.close(fig)


def test_knn_curve_and_confusion_figures(splits):
    train, test = splits
    rec = recognition(*clusters(200, 1), *clusters(80, 2))
    fig = viz.plot_knn_curve(rec, {"PCA": rec, "UMAP": rec, "t-SNE": rec})
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("k") and ax.get_ylabel() == "test accuracy"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [f"{name} (best: k = 1, 1.000)" for name in ("autoencoder", "PCA", "UMAP", "t-SNE")]
    assert len(ax.get_lines()) == 4 * 2  # a curve and its best k's star each: no probe lines crowd it
    close(fig)
    fig = viz.plot_confusion(rec, ["a", "b", "c", "d"])
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b", "c", "d"]
    assert fig.axes[0].get_ylabel() == "true class" and "1-NN" in fig.axes[0].get_title()
    close(fig)


def test_pca_comparison_figure_shows_the_pca_images_it_is_handed(splits):
    _, test = splits
    pca_images = torch.full((10, 28, 28), 0.5)
    fig = viz.plot_pca_comparison(ConvAE(3), test, pca_images, 0.2, 0.3)
    ax = fig.axes[0]
    third_row = ax.get_images()[0].get_array()[2 + 2 * 30:2 + 2 * 30 + 28, 2:2 + 28]
    assert np.allclose(third_row, 0.5)  # the PCA row is the images handed in, not a fit of its own
    assert [t.get_text() for t in ax.get_yticklabels()] == \
        ["original", "autoencoder\nBCE 0.2000", "PCA (3)\nBCE 0.3000"]
    assert ax.get_images()[0].get_array().shape[:2] == (2 + 3 * 30, 2 + 10 * 30)
    close(fig)


@pytest.mark.parametrize("dim, panels", [(1, 1), (2, 1), (3, 3), (5, 3)])
def test_decoder_map_has_a_mosaic_per_plane(splits, dim, panels):
    _, test = splits
    fig = viz.plot_decoder_map(ConvAE(dim), test, n=6)
    assert len(fig.axes) == panels
    side = 1 + 6 * 29
    assert fig.axes[-1].get_images()[0].get_array().shape[:2] == ((side, side) if dim > 1 else (32, 2 + 6 * 30))
    if dim >= 3:
        assert [ax.get_title().split(",")[0] for ax in fig.axes] == ["z1 x z2", "z1 x z3", "z2 x z3"]
    close(fig)


def test_interpolation_figure_and_the_classes_voted_along_each_path(splits):
    train, test = splits
    fig = viz.plot_interpolations(ConvAE(3), test, n_pairs=3, steps=5)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0 to 1", "2 to 3", "4 to 5"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["start", "0.0", "0.2", "0.5", "0.8", "1.0", "end"]
    close(fig)


def test_the_classes_voted_along_each_interpolation_path(splits):
    import conae.evaluate
    _, test = splits
    # training codes on a line, five of each class at its own position; the test images' codes: class 1's at 3
    train_codes = np.repeat(np.arange(10.0), 5)[:, None]
    train_labels = np.repeat(np.arange(10), 5)
    position = np.array([0, 3, 2, 3, 4, 5, 6, 7, 8, 9], float)
    codes = position[test.labels.numpy()][:, None]
    paths = conae.evaluate.interpolation_votes(test, codes, train_codes, train_labels, n_pairs=2, steps=13)
    assert paths == [("0", "1", ["0", "1", "2", "3"]), ("2", "3", ["2", "3"])]  # 0 to 1 crosses the 1s and 2s


def test_sweep_figure():
    rows = [dict(embedding_dim=d, test_bce=0.3 / d, knn_accuracy={"1": 0.5, "5": 0.6}, linear_probe_accuracy=0.4,
                 pca=dict(test_bce=0.4 / d, knn_accuracy={"1": 0.3, "5": 0.4}, linear_probe_accuracy=0.35))
            for d in (1, 2, 4)]
    fig = viz.plot_sweep(rows)
    left, right = fig.axes
    assert [t.get_text() for t in left.get_xticklabels()] == ["1", "2", "4"]
    assert list(left.lines[0].get_ydata()) == [0.3, 0.15, 0.075]
    assert len(right.lines) == 4 and right.get_ylabel() == "test accuracy"
    close(fig)
