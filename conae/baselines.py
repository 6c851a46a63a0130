"""Codes of the autoencoder's size from other methods, scored with the same numbers: PCA, the best linear code,
and UMAP and t-SNE, the neighbour embeddings. Each is fitted on training images only and places the test
images without refitting (PCA and UMAP by transform, t-SNE by openTSNE's TSNEEmbedding.transform, which
optimises the new points against the fixed training embedding)."""
import time
import warnings

import numpy as np
import scipy.sparse
import torch
from sklearn.decomposition import PCA

from . import data, inference, knn
from .cache import cached, versions
from .compiled import import_umap
from .config import BASELINE_NAMES, MAIN_K, MAX_NEIGHBOUR_FIT, UMAP_NEIGHBOURS, knn_at
from .data import flat, subset
from .environment import code_of
from .evaluate import recognition
from .inference import bce_per_image

MAX_FIT = MAX_NEIGHBOUR_FIT  # UMAP and t-SNE are fitted on at most this many training images (a fixed random subset)
PCA_CLIP = 1e-3   # PCA reconstructions leave [0, 1]; clipped to [PCA_CLIP, 1 - PCA_CLIP] so their BCE is finite


def fit_pca(train_split, n_components):
    """PCA with n_components fitted on the training images (pixels in [0, 1])."""
    return PCA(n_components, svd_solver="randomized", random_state=0).fit(flat(train_split.images))


def pca_reconstruct(pca, images):
    """uint8 images [N, 28, 28] -> their PCA reconstructions, float [N, 28, 28] clipped into (0, 1)."""
    rebuilt = pca.inverse_transform(pca.transform(flat(images))).clip(PCA_CLIP, 1 - PCA_CLIP)
    return torch.from_numpy(rebuilt.astype(np.float32)).reshape(-1, 28, 28)


def bce(reconstructions, images):
    """Mean per-pixel binary cross-entropy of float reconstructions in (0, 1) against uint8 images (in double
    precision: PCA's clipped reconstructions reach 0.001)."""
    return float(bce_per_image(reconstructions.double(), images.double() / 255).mean())


def pca_codes(train_split, test_split, n_components):
    pca = fit_pca(train_split, n_components)
    codes = pca.transform(flat(train_split.images)), pca.transform(flat(test_split.images))
    # the components and the mean are kept, so that a figure rebuilds test images from this fit (pca_reconstructions)
    return codes, dict(test_bce=bce(pca_reconstruct(pca, test_split.images), test_split.images),
                       explained_variance=float(pca.explained_variance_ratio_.sum()), components=pca.components_,
                       mean=pca.mean_)


def nearest_distances(queries, points, k, same=False):
    """A sparse [len(queries), len(points)] matrix of each query's k nearest points' euclidean distances
    (conae.knn.exact_neighbours); with same (the queries are the points: each is its own first neighbour, at
    distance 0), made symmetric, as UMAP's precomputed metric wants."""
    indices, distances = knn.exact_neighbours(points, k, None if same else queries)
    # shifted by 1 while scipy works on it, so that the zero distances stay entries rather than vanish
    graph = scipy.sparse.csr_matrix((distances.ravel() + 1, indices.ravel(), np.arange(0, indices.size + 1, k)),
                                    shape=(len(queries), len(points)))
    if same:
        graph = graph.maximum(graph.T).tocsr()
    graph.data -= 1
    return graph


def umap_codes(train_split, test_split, n_components):
    umap = import_umap()  # imported here: a run without UMAP need not load numba

    # UMAP on exact nearest neighbours, given as distances: its own search (pynndescent) would compile itself
    # with numba in every process (about 45 s on a 2-core CPU), and its search on small data calls a Python
    # function per pair of images
    train, test = flat(train_split.images), flat(test_split.images)
    k = min(UMAP_NEIGHBOURS, len(train) - 1)
    with warnings.catch_warnings():  # "using precomputed metric": what is meant
        warnings.simplefilter("ignore", UserWarning)
        fitted = umap.UMAP(n_components=n_components, n_neighbors=k, metric="precomputed", random_state=0,
                           n_jobs=1).fit(nearest_distances(train, train, k, same=True))
        test_codes = fitted.transform(nearest_distances(test, train, k))
    return (fitted.embedding_, test_codes), dict(test_bce=None)


def tsne_codes(train_split, test_split, n_components):
    from openTSNE import TSNE

    # FFT-accelerated gradients exist for 1 and 2 dimensions only; 3 and more use Barnes-Hut
    method = "fft" if n_components <= 2 else "bh"
    embedding = TSNE(n_components=n_components, negative_gradient_method=method, random_state=0,
                     n_jobs=torch.get_num_threads()).fit(flat(train_split.images))
    return (np.asarray(embedding), np.asarray(embedding.transform(flat(test_split.images)))), dict(test_bce=None)


def fit_subset(split, name, max_fit=MAX_FIT):
    """The training images a method is fitted on: all of them for PCA, else at most max_fit, a fixed random
    subset (UMAP and t-SNE grow faster than linearly with the number of points)."""
    return split if name == "pca" else subset(split, max_fit, seed=0)


ARRAYS = ("train_codes", "test_codes", "components", "mean")  # what a stored baseline keeps beside its numbers


def computed_codes(name, fitted_on, test_split, n_components):
    """A baseline's codes and numbers as arrays, as conae.cache keeps them: train_codes, test_codes, test_bce (NaN
    without a decoder), PCA's explained_variance, components and mean, and the seconds computing them took."""
    start = time.perf_counter()
    (train_codes, test_codes), numbers = {"pca": pca_codes, "umap": umap_codes, "tsne": tsne_codes}[name](
        fitted_on, test_split, n_components)
    return dict(train_codes=np.asarray(train_codes), test_codes=np.asarray(test_codes),
                seconds=np.float64(time.perf_counter() - start),
                **{k: np.asarray(v) if k in ARRAYS else np.float64(np.nan if v is None else v)
                   for k, v in numbers.items()})


def stored_baseline(name, train_split, test_split, n_components, max_fit=MAX_FIT):
    """(the baseline's arrays, computed_codes', from the cache where an earlier run or call computed them; the
    training split it was fitted on; whether they came from the cache)."""
    fitted_on = fit_subset(train_split, name, max_fit)
    # everything the codes depend on: the modules computing them (this one, data's flat and subset, inference's
    # BCE), t-SNE's threads (they share its gradient's sums), the libraries
    parts = (name, n_components, fitted_on.images.numpy(), test_split.images.numpy(), torch.get_num_threads(),
             *(code_of(module.__file__) for module in (data, inference)), code_of(__file__),
             versions("numpy", "scipy", "scikit-learn", "umap-learn", "numba", "openTSNE"))
    stored, from_cache = cached(f"baseline-{name}", parts,
                                lambda: computed_codes(name, fitted_on, test_split, n_components))
    return stored, fitted_on, from_cache


def pca_reconstructions(train_split, test_split, n_components, indices):
    """The PCA baseline's reconstructions of the test images at indices, float [N, 28, 28] clipped into (0, 1),
    rebuilt from its stored codes, components and mean: the fit run_baseline made and scored (from the cache; with
    the cache off, fitted again)."""
    stored = stored_baseline("pca", train_split, test_split, n_components)[0]
    rebuilt = stored["test_codes"][np.asarray(indices)] @ stored["components"] + stored["mean"]
    return torch.from_numpy(rebuilt.clip(PCA_CLIP, 1 - PCA_CLIP).astype(np.float32)).reshape(-1, 28, 28)


def run_baseline(name, train_split, test_split, n_components, max_fit=MAX_FIT):
    """One baseline's numbers: test_bce (None where the method has no decoder), explained_variance (PCA), the
    recognition numbers of conae.evaluate.recognition (k-NN against the codes of the images it was fitted on),
    n_fit (how many training images it was fitted on, with fit_subset saying how they were chosen), the
    seconds computing its codes took and from_cache: whether they came from an earlier run (conae.cache; then
    the seconds are that run's)."""
    stored, fitted_on, from_cache = stored_baseline(name, train_split, test_split, n_components, max_fit)
    numbers = {k: None if np.isnan(v) else float(v) for k, v in stored.items() if k not in ARRAYS + ("seconds",)}
    rec = recognition(stored["train_codes"], fitted_on.labels.numpy(), stored["test_codes"],
                      test_split.labels.numpy())
    return dict(numbers, **rec, n_fit=len(fitted_on),
                fit_subset=(f"a fixed random {len(fitted_on):,} of the {len(train_split):,} training images"
                            if len(fitted_on) < len(train_split) else "all training images"),
                seconds=float(stored["seconds"]), from_cache=from_cache)


def run_baselines(names, train_split, test_split, n_components, max_fit=MAX_FIT, verbose=True):
    """{name + "_baseline": run_baseline(...)} for each name, as metrics.json keeps them."""
    results = {}
    for name in names:
        results[f"{name}_baseline"] = result = run_baseline(name, train_split, test_split, n_components, max_fit)
        if verbose:
            print(f"{BASELINE_NAMES[name]} baseline ({n_components} components, fitted on {result['n_fit']:,} images): "
                  f"{MAIN_K}-NN {knn_at(result):.3f}, {result['seconds']:.1f} s"
                  + (" (an earlier run's, from the cache)" if result["from_cache"] else ""))
    return results
