import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from conae import viz
from conae.model import ConvAE


def titles(fig):
    return [ax.get_title() for ax in fig.axes] + [fig._suptitle.get_text() if fig._suptitle else ""]


def test_samples_titled_with_labels(splits):
    train, _ = splits
    fig = viz.plot_samples(train, n=16)
    ax, = fig.axes
    shown = [t.get_text() for t in ax.texts]
    picked = torch.randperm(60, generator=torch.Generator().manual_seed(0))[:16]  # plot_samples' choice
    assert shown == [str(int(train.labels[i])) for i in picked]
    first = ax.get_images()[0].get_array()[10:38, 5:33]  # the first image, where its label says
    assert np.array_equal(first, train.images[picked[0]].numpy())
    assert "Sample training images (60 in all)" == ax.get_title()
    plt.close(fig)


def test_loss_curve_has_both_splits():
    history = [dict(epoch=e, train_loss=0.3 / e + 0.01, train_bce=0.3 / e, test_bce=0.31 / e, seconds=1.0)
               for e in range(1, 5)]
    fig = viz.plot_loss(history, dict(mean_image=0.27, floor=0.06))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == \
        ["train BCE", "test BCE", "train loss (BCE + extra terms)"]
    assert ax.get_xlabel().startswith("epoch") and "cross-entropy" in ax.get_ylabel() and ax.get_title()
    assert list(ax.lines[1].get_ydata()) == [h["test_bce"] for h in history]
    assert [list(line.get_ydata()) for line in ax.lines[3:]] == [[0.27, 0.27], [0.06, 0.06]]  # the yardsticks
    assert [t.get_text() for t in ax.texts] == ["the mean image: 0.270", "the floor: 0.060"]
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] > 0.27
    plt.close(fig)
    fig = viz.plot_loss(history)  # without yardsticks: the curves alone
    assert len(fig.axes[0].lines) == 3 and not fig.axes[0].texts
    plt.close(fig)


@pytest.mark.parametrize("dim, kind, ylabel", [(3, "3d", "z2"), (2, "rectilinear", "z2"), (1, "rectilinear", "class (jittered)"),
                                              (8, "3d", "z2")])
def test_the_code_is_one_view_with_a_legend_of_the_classes(splits, dim, kind, ylabel):
    _, test = splits
    fig = viz.plot_latent(ConvAE(dim), test)
    ax, = fig.axes
    assert ax.name == kind and ax.get_xlabel() == "z1" and ax.get_ylabel() == ylabel
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [str(d) for d in range(10)]
    assert f"{min(dim, 8) if dim > 1 else 1} number" in fig._suptitle.get_text()
    plt.close(fig)


def test_reconstructions_one_per_class(splits):
    _, test = splits
    fig = viz.plot_reconstructions(ConvAE(), test)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(d) for d in range(10)]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["original", "reconstruction"]
    assert ax.get_images()[0].get_array().shape[:2] == (2 + 2 * 30, 2 + 10 * 30)  # 2 rows x 10 digits
    plt.close(fig)


def test_progress_picks_evenly_spaced_points_labelled_by_epochs_done(splits):
    _, test = splits
    snapshots = [torch.full((10, 28, 28), e, dtype=torch.uint8) for e in range(20)]
    history = [dict(epoch=round(0.4 * (i + 1), 4)) for i in range(20)]  # a short run: 8 epochs, 20 points
    fig = viz.plot_progress(test, snapshots, history, max_rows=5)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["original", "epoch 0.4", "epoch 2.4", "epoch 4.4", "epoch 6", "epoch 8"]
    plt.close(fig)


def test_a_mosaic_is_torchvisions_grid_of_the_same_images():
    from torchvision.utils import make_grid
    generator = torch.Generator().manual_seed(0)
    for rows in ([[torch.randint(0, 256, (28, 28), dtype=torch.uint8, generator=generator) for _ in range(7)]
                  for _ in range(3)], [[torch.rand(1, 28, 28, generator=generator) for _ in range(5)]]):
        floats = torch.stack([i.float() / 255 if i.dtype == torch.uint8 else i.float() for row in rows for i in row])
        expected = make_grid(floats.reshape(-1, 1, 28, 28), nrow=len(rows[0]), padding=2, pad_value=1.0)[0]
        fig, ax = plt.subplots()
        viz._mosaic(ax, rows, [""] * len(rows))
        assert np.array_equal(np.asarray(ax.images[0].get_array()), expected.numpy())
        plt.close(fig)
