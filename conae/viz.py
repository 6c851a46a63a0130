"""What a reader sees: the figures (each function returns a matplotlib Figure, titled, axes labelled, a legend where
colours mean something), pictures of characters as PNG bytes (for widgets), and Markdown tables."""
import base64
import io
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image

from . import analysis
from .config import BASELINE_NAMES, HEADLINE_K, MAIN_K, knn_at
from .data import one_per_class
from .inference import decode, encode, reconstruct

PIXELS = 168   # a 28x28 character shown in a widget: 6x its size


# --- tables and pictures ---

def markdown_table(header, rows):
    """A Markdown table: header, a list of column names; rows, lists of cells (already text)."""
    def line(cells):
        return "|" + "|".join(f" {cell} " if str(cell) else " " for cell in cells) + "|"
    return "\n".join([line(header), line("---" for _ in header), *map(line, rows)])


def knn_columns(prefix=""):
    """The column names of the headline k-NN accuracies: "1-NN", "5-NN" (HEADLINE_K)."""
    return [f"{prefix}{k}-NN" for k in HEADLINE_K]


def knn_cells(result):
    """The headline k-NN accuracies of a result as table cells."""
    return [f"{knn_at(result, k):.3f}" for k in HEADLINE_K]


def png_bytes(images, size=PIXELS):
    """PNG of one or more 28x28 images (float in [0, 1] or uint8) side by side, dark ink on white, enlarged."""
    return png_grid([images], size)


def png_grid(rows, cell=PIXELS):
    """PNG of rows of 28x28 images (float in [0, 1] or uint8), dark ink on white, each `cell` pixels high; a short
    row is padded with paper."""
    rows = [np.concatenate([np.asarray(i, np.float64) / (255 if np.asarray(i).dtype == np.uint8 else 1)
                            for i in row], axis=1) for row in rows]
    width = max(r.shape[1] for r in rows)
    grid = np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]))) for r in rows])
    picture = Image.fromarray((255 * (1 - grid.clip(0, 1))).round().astype(np.uint8))
    picture = picture.resize((cell * width // 28, cell * grid.shape[0] // 28), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def figure_png(fig, dpi=100):
    """PNG bytes of a matplotlib figure, which is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def with_picture(widget, fig, **kwargs):
    """A widget's display bundle carrying also a PNG of fig: live in Jupyter, a picture in a viewer without a
    kernel (and for extract_images.py)."""
    bundle = widget._repr_mimebundle_(**kwargs)
    bundle["image/png"] = base64.b64encode(figure_png(fig)).decode()
    return bundle


# --- the figures ---


def class_colors(n):
    """n distinguishable colours: tab10 for up to 10 classes, else evenly spaced hues."""
    return plt.get_cmap("tab10")(np.arange(n)) if n <= 10 else plt.get_cmap("gist_rainbow")(np.linspace(0, 1, n))


def _mosaic(ax, rows, row_names, col_names=None, pad=2):
    """Draws rows of 28x28 images (uint8 0..255 or float 0..1 tensors) as one labelled mosaic, pad pixels of full ink
    around each (torchvision's make_grid's layout, without its 1.2 s import)."""
    step = 28 + pad
    grid = np.ones((len(rows) * step + pad, len(rows[0]) * step + pad), np.float32)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            pixels = img.reshape(28, 28).float() / (255 if img.dtype == torch.uint8 else 1)
            grid[pad + i * step:pad + i * step + 28, pad + j * step:pad + j * step + 28] = pixels.numpy()
    ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1)
    ax.set_yticks([pad + 14 + i * step for i in range(len(rows))], row_names)
    ax.set_xticks([pad + 14 + j * step for j in range(len(rows[0]))], col_names or [])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)


def scatter_3d(ax, codes, labels, palette, size):
    """The first three numbers of codes as a 3-D scatter on ax, each point coloured by its class (palette[label]),
    the axes named z1, z2 and z3: every 3-D view of a code is drawn by this."""
    ax.scatter(*codes[:, :3].T, c=palette[labels], s=size, alpha=0.9, linewidths=0, depthshade=False)
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    ax.set_zlabel("z3")


def class_legend(fig, classes, palette):
    """A legend of the class colours at the figure's right edge; returns the figure width it leaves free."""
    columns = 1 if len(classes) <= 13 else 2
    handles = [plt.Line2D([], [], marker="o", ls="", color=palette[i], label=name) for i, name in enumerate(classes)]
    fig.legend(handles=handles, title="class", loc="center right", ncol=columns,
               fontsize="small" if len(classes) > 10 else None)
    inches = columns * (0.5 + 0.085 * max(map(len, classes)))  # about what the legend's longest name needs
    return 1 - inches / fig.get_figwidth()


def plot_samples(split, n=32, cols=8, seed=0):
    """A grid of n random images of split, each labelled with its class above it (one mosaic: one axes, not n)."""
    idx = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:n]
    rows = -(-len(idx) // cols)
    step, pad = 28 + 10, 10  # room above each image for its label
    grid = np.zeros((rows * step + pad, cols * step))
    fig, ax = plt.subplots(figsize=(cols * 1.1, rows * 1.25 + 0.5))
    for k, i in enumerate(idx):
        r, c = divmod(k, cols)
        grid[pad + r * step:pad + r * step + 28, 5 + c * step:5 + c * step + 28] = split.images[i].numpy()
        ax.text(5 + c * step + 14, pad + r * step - 2, split.classes[int(split.labels[i])], ha="center",
                va="bottom", fontsize=9)
    ax.imshow(grid, cmap="gray_r", vmin=0, vmax=255)
    ax.axis("off")
    ax.set_title(f"Sample training images ({len(split):,} in all)")
    fig.tight_layout()
    return fig


def plot_loss(history, yardsticks=None):
    """Train and test binary cross-entropy at each recorded point, against epochs done (the training numbers are
    means since the previous point; the penalised training loss is drawn too when it differs); yardsticks
    (conae.evaluate.bce_yardsticks) as dashed lines: the mean image's BCE and the floor."""
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(9.5, 4.3))
    ax.plot(epochs, [h["train_bce"] for h in history], "o-", ms=3, label="train BCE")
    scored = sorted({h.get("scored_images") for h in history} - {None})
    sampled = f" (a fixed {scored[0]:,} test images; the last point all {scored[-1]:,})" if len(scored) > 1 else ""
    ax.plot(epochs, [h["test_bce"] for h in history], "s-", ms=3, label="test BCE" + sampled)
    if any(h["train_loss"] != h["train_bce"] for h in history):
        ax.plot(epochs, [h["train_loss"] for h in history], ":", label="train loss (BCE + extra terms)")
    if yardsticks:
        ax.axhline(yardsticks["mean_image"], color="grey", ls="--", lw=1)
        ax.axhline(yardsticks["floor"], color="grey", ls="--", lw=1)
        for value, text in ((yardsticks["mean_image"], "the mean image"), (yardsticks["floor"], "the floor")):
            ax.annotate(f"{text}: {value:.3f}", (1, value), xycoords=("axes fraction", "data"), xytext=(-4, 3),
                        textcoords="offset points", ha="right", va="bottom", fontsize=9, color="dimgrey")
        drawn = [h[key] for h in history for key in ("train_bce", "test_bce", "train_loss")]
        ax.set_ylim(0, max(max(drawn), yardsticks["mean_image"]) * 1.1)  # from 0: the floor's distance shows
    ax.set_xlabel("epoch (passes over the training images)")
    ax.set_ylabel("binary cross-entropy per pixel")
    ax.set_title("Training curve")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the axes: it covers no curve
    fig.tight_layout()
    return fig


def scatter_points(model, split, max_points, with_index=False, codes=None):
    """(codes, labels) of split, at most max_points of them: a readable scatter; the subsample is fixed so the
    figure is stable. with_index: also the indices of those images in split. codes: split's codes, if known."""
    codes, labels = encode(model, split.images) if codes is None else codes, split.labels.numpy()
    keep = np.arange(len(codes))
    if len(codes) > max_points:
        keep = np.sort(np.random.default_rng(0).choice(len(codes), max_points, replace=False))
    return (codes[keep], labels[keep], keep) if with_index else (codes[keep], labels[keep])


def plot_latent(model, split, max_points=5000, codes=None, view=(25, -60)):
    """The codes of split, each a point coloured by its class: a 3-D scatter of the first three numbers (z1, z2,
    z3), or for a code of 2 numbers a 2-D one, of 1 a strip per class (codes: split's codes, if known)."""
    codes, labels = scatter_points(model, split, max_points, codes=codes)
    dims = min(codes.shape[1], 3)
    palette = class_colors(len(split.classes))
    size = 4 if len(codes) > 2000 else 10  # dense scatters need small dots; sparse ones need visible ones
    fig = plt.figure(figsize=(8.5, 7) if dims == 3 else (7.5, 5.5))
    if dims == 3:
        ax = fig.add_subplot(projection="3d")
        scatter_3d(ax, codes, labels, palette, size)
        ax.view_init(*view)
    else:
        ax = fig.add_subplot()
        if dims == 1:
            codes = np.column_stack([codes[:, 0], labels + np.random.default_rng(0).uniform(-0.3, 0.3, len(labels))])
        ax.scatter(codes[:, 0], codes[:, 1], c=palette[labels], s=size, alpha=0.8, linewidths=0)
        ax.set_xlabel("z1")
        ax.set_ylabel("class (jittered)" if dims == 1 else "z2")
    free = class_legend(fig, split.classes, palette)
    numbers = f"{codes.shape[1] if dims > 1 else 1} number{'s' * (dims > 1)}"
    fig.suptitle(f"The code of {len(codes):,} test images: {numbers} each, coloured by their true class")
    fig.tight_layout(rect=(0, 0, free, 1))
    return fig


def plot_reconstructions(model, split):
    """Originals (top row) above their reconstructions (bottom row), one image of each class."""
    idx = one_per_class(split)
    originals, labels = split.images[idx], split.labels[idx]
    reconstructions = reconstruct(model, originals).squeeze(1)
    fig, ax = plt.subplots(figsize=(1.0 * len(originals) + 1.5, 2.8))
    _mosaic(ax, [list(originals), list(reconstructions)], ["original", "reconstruction"],
            [split.classes[int(label)] for label in labels])
    ax.set_xlabel("class")
    ax.set_title("Original vs reconstruction, one test image of each class")
    fig.tight_layout()
    return fig


def plot_three_numbers(model, images, labels, classes):
    """One image of each class (the first of each in images), the three numbers model's encoder keeps of it, and
    the image its decoder rebuilds from them: the whole idea of an autoencoder in one picture."""
    labels = np.asarray(labels)
    first = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)]
    originals = torch.as_tensor(images)[first]
    codes = encode(model, originals)
    fig, ax = plt.subplots(figsize=(1.05 * len(first) + 1.6, 3.2))
    _mosaic(ax, [list(originals), list(decode(model, codes))], ["original", "rebuilt"],
            ["\n".join(f"{v:.1f}" for v in code[:3]) for code in codes])
    ax.set_xlabel(f"the {codes.shape[1]} number{'s' * (codes.shape[1] > 1)} each image is squeezed into "
                  "(z1, z2, z3 from top to bottom)" if codes.shape[1] == 3 else "the code of each image")
    ax.set_title(f"{len(first)} characters, each rebuilt from {codes.shape[1]} numbers alone")
    fig.tight_layout()
    return fig


def plot_progress(split, snapshots, history, max_rows=8):
    """Reconstructions of split's one_per_class images at selected recorded points of history (rows, labelled
    with the epochs done), originals on top."""
    originals = split.images[one_per_class(split)]
    picks = np.unique(np.linspace(0, len(snapshots) - 1, min(max_rows, len(snapshots))).round().astype(int))
    rows = [list(originals)] + [list(snapshots[i]) for i in picks]
    fig, ax = plt.subplots(figsize=(1.0 * len(originals) + 1.5, 0.95 * len(rows) + 0.9))
    _mosaic(ax, rows, ["original"] + [f"epoch {round(history[i]['epoch'], 2):g}" for i in picks])
    ax.set_title("Reconstructions of fixed test images during training")
    fig.tight_layout()
    return fig


# --- what the code knows (conae.evaluate.recognition, conae.analysis) ---

def plot_knn_curve(recognition, baselines=None):
    """k-NN accuracy against k (1..25), the best k of each marked with a star, for the autoencoder and beside it
    each method of baselines ({name: its recognition dict}, e.g. PCA, UMAP, t-SNE); one legend entry per method
    (the linear probes are in the table beside it, not here)."""
    fig, ax = plt.subplots(figsize=(10, 4.6))
    methods = [("autoencoder", recognition)] + list((baselines or {}).items())
    for (name, rec), style in zip(methods, ("o-", "s--", "^-.", "v:", "d--")):
        ks = [int(k) for k in rec["knn_accuracy"]]
        line, = ax.plot(ks, list(rec["knn_accuracy"].values()), style, ms=4, lw=1.5,
                        label=f"{name} (best: k = {rec['best_k']}, {rec['best_knn_accuracy']:.3f})")
        ax.plot(rec["best_k"], rec["best_knn_accuracy"], "*", ms=15, color=line.get_color(), mec="black", zorder=3)
    ax.set_xlabel("k (neighbours voting)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Recognition from the code: k nearest training codes vote (stars: each method's best k)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the axes: it covers no curve
    fig.tight_layout()
    return fig


def plot_confusion(recognition, classes):
    """The confusion matrix of the best k, each row as fractions of that true class."""
    counts = np.array(recognition["confusion_matrix"])
    rows = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
    n = len(classes)
    fig, ax = plt.subplots(figsize=(0.55 * n + 2, 0.5 * n + 1.5))
    image = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    if n <= 12:  # the numbers stay readable up to about a dozen classes
        for i, j in np.ndindex(rows.shape):
            if rows[i, j] >= 0.005:
                ax.text(j, i, f"{rows[i, j]:.2f}"[1:] if rows[i, j] < 1 else "1", ha="center", va="center",
                        fontsize=8, color="white" if rows[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), classes, rotation=90 if max(map(len, classes)) > 2 else 0)
    ax.set_yticks(range(n), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"Confusion of {recognition['best_k']}-NN on test codes "
                 f"(accuracy {recognition['best_knn_accuracy']:.3f})")
    fig.colorbar(image, ax=ax, label="fraction of the true class", shrink=0.8)
    fig.tight_layout()
    return fig


def plot_pca_comparison(model, test_split, pca_images, test_bce=None, pca_bce=None):
    """One test image of each class: original, autoencoder reconstruction, and pca_images: the same images rebuilt
    by PCA with as many components as the code has numbers (conae.baselines.pca_reconstructions, the baseline's
    own fit)."""
    idx = one_per_class(test_split)
    originals = test_split.images[idx]
    rows = [list(originals), list(reconstruct(model, originals).squeeze(1)), list(pca_images)]
    names = ["original", "autoencoder", f"PCA ({model.embedding_dim})"]
    if test_bce is not None and pca_bce is not None:
        names[1:] = [f"{names[1]}\nBCE {test_bce:.4f}", f"{names[2]}\nBCE {pca_bce:.4f}"]
    fig, ax = plt.subplots(figsize=(1.0 * len(idx) + 2, 3.9))
    _mosaic(ax, rows, names, [test_split.classes[int(c)] for c in test_split.labels[idx]])
    ax.set_title(f"What the nonlinear model buys: {model.embedding_dim} numbers per image, autoencoder vs PCA")
    fig.tight_layout()
    return fig


def _planes(dim):
    return [(0, 1), (0, 2), (1, 2)] if dim >= 3 else [(0, 1)]


def plot_decoder_map(model, split, n=12, title="Decoder map: what each point of code space decodes to", codes=None):
    """The decoder over code space: a regular n x n grid over each plane of two code dimensions through the
    mean code (the rest held at the mean), spanning the 1st to 99th percentile of split's codes."""
    codes = encode(model, split.images) if codes is None else codes
    if codes.shape[1] == 1:  # a single dimension: one strip
        strip = analysis.interpolation(np.percentile(codes, 1, axis=0), np.percentile(codes, 99, axis=0), n)
        fig, ax = plt.subplots(figsize=(n * 0.8 + 1, 1.8))
        _mosaic(ax, [list(decode(model, strip))], [""], [f"{v:.1f}" for v in strip[:, 0]])
        ax.set_xlabel("z1")
        ax.set_title("Decoded images along the code, 1st to 99th percentile")
        fig.tight_layout()
        return fig
    planes = _planes(codes.shape[1])
    fig, axes = plt.subplots(1, len(planes), figsize=(5.4 * len(planes), 5.9), squeeze=False)
    for ax, (a, b) in zip(axes[0], planes):
        grid, along_a, along_b = analysis.plane_grid(codes, (a, b), n)
        images = decode(model, grid).reshape(n, n, 28, 28)
        ticks = range(0, n, max(1, n // 4))
        _mosaic(ax, [list(row) for row in images], [f"{along_b[::-1][i]:.1f}" if i in ticks else "" for i in range(n)],
                [f"{along_a[j]:.1f}" if j in ticks else "" for j in range(n)], pad=1)
        ax.set_xlabel(f"z{a + 1}")
        ax.set_ylabel(f"z{b + 1}")
        ax.set_title(f"z{a + 1} x z{b + 1}" + (", the rest at the mean" if codes.shape[1] > 2 else ""))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_interpolations(model, split, n_pairs=5, steps=11):
    """Decoded codes evenly spaced between the codes of two test images (one per class, consecutive classes
    paired), the two originals at the ends."""
    rows, names = [], []
    for a, b in analysis.pairs(one_per_class(split).tolist(), n_pairs):
        start, end = encode(model, split.images[[a, b]])
        rows.append([split.images[a], *decode(model, analysis.interpolation(start, end, steps)), split.images[b]])
        names.append(f"{split.classes[int(split.labels[a])]} to {split.classes[int(split.labels[b])]}")
    columns = ["start"] + [f"{t:.1f}" for t in np.linspace(0, 1, steps)] + ["end"]
    fig, ax = plt.subplots(figsize=(0.75 * len(columns) + 1.5, 0.8 * len(rows) + 1.2))
    _mosaic(ax, rows, names, columns)
    ax.set_xlabel("original, then decoded codes from the first code (0) to the second (1), then original")
    ax.set_title("Interpolating in code space between two test images")
    fig.tight_layout()
    return fig


def plot_sweep(rows):
    """Test BCE and recognition accuracy against the code size, autoencoder beside PCA (conae.compare.sweep)."""
    dims = [r["embedding_dim"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.plot(dims, [r["test_bce"] for r in rows], "o-", label="autoencoder")
    left.plot(dims, [r["pca"]["test_bce"] for r in rows], "s--", label="PCA")
    left.set_ylabel("test BCE per pixel")
    left.set_title("Reconstruction")
    for name, get, style, color in (("autoencoder", lambda r: r, "-", "C0"), ("PCA", lambda r: r["pca"], "--", "C1")):
        right.plot(dims, [knn_at(get(r)) for r in rows], "o" + style, color=color, label=f"{name}, {MAIN_K}-NN")
        right.plot(dims, [get(r)["linear_probe_accuracy"] for r in rows], "^" + style, color=color, mfc="white",
                   label=f"{name}, linear probe")
    right.set_ylabel("test accuracy")
    right.set_title("Recognition from the code")
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xticks(dims, [str(d) for d in dims])
        ax.minorticks_off()
        ax.set_xlabel("code size (numbers per image)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle("How much the code size buys (same recipe and data for every size)")
    fig.tight_layout()
    return fig


# --- grids of runs (conae.compare) ---

def plot_tradeoff(comparison):
    """Test BCE against 5-NN accuracy: every run as a dot (one colour per preset) drawn over its preset's median (a
    large hollow star), the baselines as squares where they have a BCE, else as a horizontal line at their 5-NN."""
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    for i, (name, median) in enumerate(comparison["median"].items()):
        mine = [r for r in comparison["runs"] if r["preset"] == name]
        color = f"C{i}"
        ax.scatter(median["test_bce"], knn_at(median), s=420, marker="*", facecolors="none", edgecolors=color,
                   linewidths=1.8, zorder=2, label=f"{name}: median of {len(mine)} seeds")
        ax.scatter([r["test_bce"] for r in mine], [knn_at(r) for r in mine], color=color, s=28, edgecolors="black",
                   linewidths=0.5, zorder=3, label=f"{name}: each seed")
    # the accuracy axis spans the runs and the baselines' lines; a baseline far below them is marked at the bottom
    shown = [knn_at(r) for r in comparison["runs"]] + [knn_at(b) for b in comparison["baselines"].values()
                                                        if b["test_bce"] is None]
    low, high = min(shown) - 0.03, max(shown) + 0.015
    styles = iter(["--", "-.", ":"])
    for j, (name, b) in enumerate(comparison["baselines"].items()):
        color = f"C{len(comparison['median']) + j}"
        label = f"{BASELINE_NAMES[name]}: BCE {b['test_bce']:.3f}, {MAIN_K}-NN {knn_at(b):.3f}" if b["test_bce"] \
            is not None else f"{BASELINE_NAMES[name]} (no decoder): {MAIN_K}-NN {knn_at(b):.3f}"
        if b["test_bce"] is None:
            ax.axhline(knn_at(b), color=color, ls=next(styles), label=label)
        elif knn_at(b) < low:
            ax.scatter(b["test_bce"], low + 0.004, color=color, marker="v", s=70, label=f"{label} (below the chart)")
        else:
            ax.scatter(b["test_bce"], knn_at(b), color=color, marker="s", s=60, label=label)
    ax.set_ylim(low, high)
    ax.set_xlabel("test BCE per pixel (lower: better reconstructions)")
    ax.set_ylabel(f"{MAIN_K}-NN test accuracy (higher: a code that recognises)")
    ax.set_title(f"Reconstruction against recognition, codes of 3 numbers ({comparison['n_train']:,} training images)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def plot_codes_side_by_side(models, split, max_points=3000, view=(25, -60)):
    """The 3-D codes of split's images under each model ({name: model}), side by side, coloured by class. Each
    panel has its own axes: a code's scale is its own (the neighbour term pulls codes to a layout of spread 1;
    reconstruction alone leaves them at whatever scale it found)."""
    fig = plt.figure(figsize=(5.8 * len(models) + 1.5, 5.6))
    palette = class_colors(len(split.classes))
    for i, (name, model) in enumerate(models.items()):
        codes, labels = scatter_points(model, split, max_points)
        ax = fig.add_subplot(1, len(models), i + 1, projection="3d")
        scatter_3d(ax, codes, labels, palette, 7)
        ax.view_init(*view)
        ax.set_title(name)
    free = class_legend(fig, split.classes, palette)
    fig.suptitle(f"The same {len(codes):,} test images in each code of 3 numbers (each panel on its own scale)")
    fig.tight_layout(rect=(0, 0, free, 1))
    return fig


# --- characters read from an image (conae.recognise) ---

def plot_recognition(readings, reference):
    """A figure of readings: one row per single character (the input, the prepared 28x28, its reconstruction
    and its nearest training images, titled with the vote); a picture of several characters as plot_text draws
    it."""
    if len(readings) == 1 and len(readings[0]["characters"]) > 1:
        return plot_text(readings[0], reference)
    results = [r for reading in readings for r in ([reading] if len(reading["characters"]) == 1 else
                                                    [dict(c, path=reading["path"], input=reading["input"])
                                                     for c in reading["characters"]])]
    k = max(len(r["nearest"]) for r in results)
    fig, axes = plt.subplots(len(results), 3 + k, figsize=(1.9 * (3 + k), 2.5 * len(results)), squeeze=False,
                             gridspec_kw=dict(width_ratios=[1.6, 1, 1] + [1] * k))
    for row, result in zip(axes, results):
        runner = f", runner-up {result['runner_up']['label']}" if result["runner_up"] else ""
        verdict = (f"{Path(result['path']).name}\nvoted {result['label']} ({result['votes']:.0%} of "
                   f"{len(result['nearest'])}{runner})")
        panels = [(result["input"], verdict, "gray"), (result["prepared"].numpy(), "prepared 28x28" + ", deskewed" * reference.deskew, "gray_r"),
                  (result["reconstruction"].numpy(), f"reconstruction\nBCE {result['bce']:.3f}", "gray_r")]
        panels += [(reference.train_images[j].numpy(), f"neighbour {n + 1}: "
                    f"{reference.classes[reference.train_labels[j]]}", "gray_r") for n, j in enumerate(result["nearest"])]
        for ax in row:
            ax.axis("off")
        for ax, (image, title, cmap) in zip(row, panels):
            ax.imshow(image, cmap=cmap, vmin=0, vmax=255 if image.max() > 1 else 1)
            ax.set_title(title, fontsize=9)
    fig.suptitle("Recognising characters drawn elsewhere: prepared as MNIST was, then voted on by the nearest "
                 "training codes")
    fig.tight_layout()
    return fig


def plot_text(reading, reference):
    """A picture of several characters: the input with each character's box and vote, and below it each
    character as the model saw it (prepared, 28x28) with its vote share and runner-up."""
    found = reading["characters"]
    fig = plt.figure(figsize=(max(8.0, 1.5 * len(found)), 5.4))
    grid = fig.add_gridspec(2, len(found), height_ratios=[2.2, 1])
    top = fig.add_subplot(grid[0, :])
    top.imshow(reading["input"], cmap="gray", vmin=0, vmax=255)
    for n, c in enumerate(found):
        x, y, width, height = c["box"]
        top.add_patch(plt.Rectangle((x - 0.5, y - 0.5), width, height, fill=False, edgecolor="tab:red", lw=1.5))
        top.text(x, y - 2, f"{n + 1}: {c['label']}", color="tab:red", fontsize=10, va="bottom")
    top.set_title(f"{Path(reading['path']).name}: read as {reading['text']}")
    top.axis("off")
    for n, c in enumerate(found):
        ax = fig.add_subplot(grid[1, n])
        ax.imshow(c["prepared"].numpy(), cmap="gray_r", vmin=0, vmax=255)
        runner = f"\nrunner-up {c['runner_up']['label']}" if c["runner_up"] else ""
        ax.set_title(f"{n + 1}: {c['label']} ({c['votes']:.0%}){runner}", fontsize=9)
        ax.axis("off")
    fig.suptitle("Several characters in one picture: each found, prepared as MNIST was" +
                 ", deskewed" * reference.deskew + ", and voted on by its nearest training codes")
    fig.tight_layout()
    return fig
