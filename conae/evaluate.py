"""How good is the code: reconstruction BCE, and recognition by k-nearest neighbours in code space."""
from sklearn.neighbors import KNeighborsClassifier

from .data import to_float
from .train import encode_and_score, in_batches


def encode(model, images):
    """Codes [N, embedding_dim] (numpy) of uint8 images [N, 28, 28]."""
    model.eval()
    return in_batches(model.encode, to_float(images)).numpy()


def knn_accuracy(train_codes, train_labels, test_codes, test_labels, ks=(1, 5)):
    """{k: fraction of test codes whose k nearest train codes (Euclidean) vote their true label}.

    A true majority vote: the most frequent label among the k neighbours wins; a tie goes to the
    smallest tied label (scikit-learn's rule).
    """
    return {k: float(KNeighborsClassifier(n_neighbors=k).fit(train_codes, train_labels)
                     .score(test_codes, test_labels)) for k in ks}


def evaluate(model, train_split, test_split, ks=(1, 5)):
    """The headline numbers: test BCE (mean per pixel) and k-NN accuracy of test codes vs train codes."""
    train_codes = encode(model, train_split.images)
    test_codes, test_bce = encode_and_score(model, to_float(test_split.images))
    return dict(
        test_bce=test_bce,
        knn_accuracy={str(k): acc for k, acc in knn_accuracy(
            train_codes, train_split.labels.numpy(), test_codes.numpy(), test_split.labels.numpy(), ks).items()},
    )
