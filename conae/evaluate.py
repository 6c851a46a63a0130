"""How good is the code: reconstruction BCE, and recognition of the class from the code alone (k-nearest
neighbours for every k, a confusion matrix, a linear probe)."""
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .analysis import interpolation, pairs
from .config import HEADLINE_K, MAIN_K
from .data import one_per_class, to_float
from .inference import bce_per_image, encode, encode_and_score, reconstruct
from .knn import nearest, neighbour_index, vote

KS = tuple(range(1, 26))  # the k of the k-NN curve


def split_codes(model, train_split, test_split, test_bce=None):
    """(train codes, test codes, test BCE): one pass over each split. test_bce: the whole test set's, where the
    caller has it (the last point of fit's history scored all of it with this model: bitwise this number), so
    that the test images are only encoded, not decoded again."""
    if test_bce is None:
        test_codes, test_bce = encode_and_score(model, test_split.images)
    else:
        test_codes = encode(model, test_split.images)
    return encode(model, train_split.images), test_codes, test_bce


def knn_predictions(train_codes, train_labels, test_codes, ks=HEADLINE_K):
    """{k: the class the k nearest train codes of each test code vote for (conae.knn.vote)}; one neighbour
    search serves every k."""
    labels = train_labels[nearest(neighbour_index(train_codes), test_codes, max(ks))]
    return {k: vote(labels[:, :k], int(train_labels.max()) + 1).winner for k in ks}


def knn_accuracy(train_codes, train_labels, test_codes, test_labels, ks=HEADLINE_K):
    """{k: fraction of test codes whose k nearest train codes vote their true label}."""
    return accuracies(knn_predictions(train_codes, train_labels, test_codes, ks), test_labels)


def accuracies(predictions, labels):
    """{k: fraction of predictions[k] equal to labels}."""
    return {k: float((predicted == labels).mean()) for k, predicted in predictions.items()}


def linear_probe_accuracy(train_codes, train_labels, test_codes, test_labels):
    """Accuracy of a logistic regression fitted on the (standardised) train codes: what a linear read-out finds."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return float(probe.fit(train_codes, train_labels).score(test_codes, test_labels))


def recognition(train_codes, train_labels, test_codes, test_labels, ks=KS):
    """k-NN accuracy for every k, the best k (the smallest of the most accurate), its confusion matrix
    (rows: true class, columns: predicted) and the linear probe's accuracy."""
    ks = tuple(k for k in ks if k <= len(train_codes)) or (1,)  # a tiny training set cannot give 25 neighbours
    predictions = knn_predictions(train_codes, train_labels, test_codes, ks)
    accuracy = accuracies(predictions, test_labels)
    best = max(ks, key=lambda k: (accuracy[k], -k))
    n_classes = int(max(train_labels.max(), test_labels.max())) + 1
    return dict(
        knn_accuracy={str(k): acc for k, acc in accuracy.items()},
        best_k=best,
        best_knn_accuracy=accuracy[best],
        confusion_matrix=confusion_matrix(test_labels, predictions[best], labels=range(n_classes)).tolist(),
        linear_probe_accuracy=linear_probe_accuracy(train_codes, train_labels, test_codes, test_labels),
    )


def headline(result):
    """The numbers a grid keeps of a run or a baseline (comparison.json, sweep.json): test BCE, 1-NN and 5-NN,
    linear probe."""
    knn = {str(k): result["knn_accuracy"][str(k)] for k in HEADLINE_K}
    return dict(test_bce=result["test_bce"], knn_accuracy=knn, linear_probe_accuracy=result["linear_probe_accuracy"])


# --- what the numbers mean: yardsticks, and where the code errs ---

def bce_yardsticks(train_split, test_split):
    """Two test BCEs that say what a model's BCE means: mean_image, of rebuilding every test image as the mean
    training image (a code that knows nothing), and floor, of rebuilding every pixel exactly, the least any model
    can reach: above 0 wherever pixels are grey, not black or white (a pixel of brightness x costs its entropy,
    -x log x - (1 - x) log(1 - x), even when predicted exactly)."""
    images = to_float(test_split.images)
    mean = to_float(train_split.images).mean(dim=0, keepdim=True).clamp(1e-6, 1 - 1e-6).expand_as(images)
    return dict(mean_image=float(bce_per_image(mean, images).mean()),
                floor=float(bce_per_image(images, images).mean()))


def bce_by_class(model, split):
    """{class name: the mean test BCE of its images' reconstructions}."""
    per_image = bce_per_image(reconstruct(model, split.images), to_float(split.images)).numpy()
    labels = split.labels.numpy()
    return {name: float(per_image[labels == c].mean()) for c, name in enumerate(split.classes) if (labels == c).any()}


def class_accuracy(recognition, classes):
    """{class name: the share of its test images the best k's vote gets right} (from the confusion matrix)."""
    counts = np.array(recognition["confusion_matrix"])
    return {name: float(counts[c, c] / counts[c].sum()) for c, name in enumerate(classes) if counts[c].sum()}


def top_confusions(recognition, classes, n=3):
    """The n most frequent mistakes of the best k's vote: [(true class, predicted class, share of the true class's
    test images)], most frequent first."""
    counts = np.array(recognition["confusion_matrix"], dtype=float)
    shares = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
    np.fill_diagonal(shares, 0)
    order = np.argsort(-shares, axis=None, kind="stable")[:n]
    return [(classes[i], classes[j], float(shares[i, j])) for i, j in zip(*np.unravel_index(order, shares.shape))
            if shares[i, j] > 0]


def interpolation_votes(split, codes, train_codes, train_labels, n_pairs=5, steps=11):
    """For each interpolation viz.plot_interpolations draws (between the codes of two test images of consecutive
    classes; codes: split's): (start class, end class, the classes the MAIN_K nearest training codes vote for
    along the path, each once, in the order first met)."""
    ends = pairs(one_per_class(split).tolist(), n_pairs)
    paths = np.concatenate([interpolation(codes[a], codes[b], steps) for a, b in ends])
    voted = knn_predictions(train_codes, np.asarray(train_labels), paths, ks=(MAIN_K,))[MAIN_K].reshape(len(ends), -1)
    return [(split.classes[int(split.labels[a])], split.classes[int(split.labels[b])],
             list(dict.fromkeys(split.classes[int(c)] for c in path))) for (a, b), path in zip(ends, voted)]
