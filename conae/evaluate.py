"""How good is the code: reconstruction BCE, and recognition of the class from the code alone (k-nearest
neighbours for every k, a confusion matrix, a linear probe)."""
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .config import HEADLINE_K
from .inference import encode, encode_and_score
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
