"""Play with the code: a live explorer for Jupyter (ipywidgets), an interactive 3-D scatter that opens offline
(plotly), and a rotating view of the code as an animated GIF (matplotlib with Pillow)."""
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation

from .atomic import atomic_write
from .inference import decode, encode
from .knn import nearest, neighbour_index, vote
from .viz import PIXELS, class_colors, class_legend, png_bytes, scatter_3d, scatter_points, with_picture

SLIDERS = 3    # the first three code numbers get sliders; the rest stay at the chosen test image's values


class Explorer:
    """Three sliders over the code (1st to 99th percentile of the test codes), the decoded image redrawn as they
    move, the class the k nearest training codes vote for with its share, and those training images. A text box
    loads the code of any test image. Displayed in Jupyter it is a live widget; elsewhere (a notebook viewer,
    extract_images.py) the same display carries a static PNG of its initial state."""

    def __init__(self, model, train_split, test_split, k=5, start=0, train_codes=None, test_codes=None):
        import ipywidgets as widgets  # imported here: only the notebook needs it

        self.model, self.train_split, self.test_split, self.k = model.eval(), train_split, test_split, k
        self.train_codes = encode(model, train_split.images) if train_codes is None else train_codes
        self.test_codes = encode(model, test_split.images) if test_codes is None else test_codes
        self.index = neighbour_index(self.train_codes)
        low, high = np.percentile(self.test_codes, [1, 99], axis=0)
        self.sliders = [widgets.FloatSlider(min=float(low[d]), max=float(high[d]), step=float(high[d] - low[d]) / 200,
                                            description=f"z{d + 1}", readout_format=".2f", continuous_update=True)
                        for d in range(min(SLIDERS, self.test_codes.shape[1]))]
        self.chooser = widgets.BoundedIntText(value=start, min=0, max=len(test_split) - 1,
                                              description="test image", layout=widgets.Layout(width="200px"))
        self.source = widgets.HTML()
        self.decoded = widgets.Image(format="png", width=PIXELS, height=PIXELS)
        self.vote = widgets.HTML()
        self.nearest = widgets.Image(format="png", height=PIXELS // 2)
        for d, slider in enumerate(self.sliders):
            slider.add_class(f"conae-z{d + 1}")
            slider.observe(self.redraw, names="value")
        self.decoded.add_class("conae-decoded")
        self.chooser.observe(lambda change: self.load(change["new"]), names="value")
        controls = widgets.VBox([widgets.HBox([self.chooser, self.source]), *self.sliders])
        self.widget = widgets.VBox([widgets.HBox([controls, self.decoded, self.vote]),
                                    widgets.HTML(f"<b>The {k} nearest training images</b>"), self.nearest])
        self.load(start)

    def code(self):
        """The code being shown: the chosen test image's, with the first numbers taken from the sliders."""
        code = self.base.copy()
        code[:len(self.sliders)] = [s.value for s in self.sliders]
        return code

    def state(self):
        """(decoded image [28, 28], voted class, its share, indices of the nearest training images)."""
        code = self.code()
        image = decode(self.model, code[None])[0].numpy()
        closest = nearest(self.index, code[None], self.k)
        chosen = vote(self.train_split.labels.numpy()[closest], len(self.train_split.classes))
        return image, self.train_split.classes[int(chosen.winner[0])], float(chosen.share[0]), closest[0]

    def load(self, index):
        """Moves the sliders to the code of test image index."""
        self.base = self.test_codes[index].copy()
        label = self.test_split.classes[int(self.test_split.labels[index])]
        self.source.value = f"&nbsp;a <b>{label}</b> of the test set"
        with self.hold():
            for d, slider in enumerate(self.sliders):
                slider.value = float(np.clip(self.base[d], slider.min, slider.max))
        self.redraw()

    @contextmanager
    def hold(self):
        """A context in which slider changes do not redraw (load() moves them all, then redraws once)."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False

    holding = False

    def redraw(self, change=None):
        if self.holding:
            return
        image, label, share, nearest = self.state()
        self.decoded.value = png_bytes([image])
        self.vote.value = (f"<div style='padding-left:12px'>the {self.k} nearest training codes vote<br>"
                           f"<span style='font-size:2.4em'><b>{label}</b></span><br>{share:.0%} of the votes</div>")
        self.nearest.value = png_bytes([self.train_split.images[j] for j in nearest], size=PIXELS // 2)

    def figure(self):
        """The explorer's current state as a matplotlib figure (what a viewer without a kernel shows)."""
        image, label, share, nearest = self.state()
        fig, axes = plt.subplots(1, 1 + self.k, figsize=(2.2 * (1 + self.k), 2.9),
                                 gridspec_kw=dict(width_ratios=[1.6] + [1] * self.k))
        code = ", ".join(f"{v:.2f}" for v in self.code())
        axes[0].imshow(image, cmap="gray_r", vmin=0, vmax=1)
        axes[0].set_title(f"decoded from\n({code})", fontsize=9)
        for n, (ax, j) in enumerate(zip(axes[1:], nearest)):
            ax.imshow(self.train_split.images[j].numpy(), cmap="gray_r")
            ax.set_title(f"neighbour {n + 1}: {self.train_split.classes[int(self.train_split.labels[j])]}",
                         fontsize=9)
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        fig.suptitle(f"Code explorer: the {self.k} nearest training codes vote {label} ({share:.0%}); move the "
                     "sliders in Jupyter to see the character change")
        fig.tight_layout()
        return fig

    def _repr_mimebundle_(self, **kwargs):
        return with_picture(self.widget, self.figure(), **kwargs)


def explore(model, train_split, test_split, k=5, start=0):
    """The notebook's one line: a live Explorer of model's code."""
    return Explorer(model, train_split, test_split, k, start)


# --- the code in 3-D: interactive (plotly) and rotating (GIF) ---

def latent_3d_html(model, split, path, max_points=5000):
    """An interactive 3-D scatter of split's codes (the first three numbers), coloured by class, each point's
    class and index on hover, written to path as one self-contained HTML file (plotly.js inside: it opens
    offline and fetches nothing)."""
    import plotly.graph_objects as go  # imported here: only the notebook needs it

    codes, labels, index = scatter_points(model, split, max_points, with_index=True)
    palette = class_colors(len(split.classes))
    fig = go.Figure()
    for c, name in enumerate(split.classes):
        mine = labels == c
        if not mine.any():
            continue
        r, g, b = (255 * palette[c][:3]).round().astype(int)
        fig.add_trace(go.Scatter3d(
            x=codes[mine, 0], y=codes[mine, 1], z=codes[mine, 2], mode="markers", name=name,
            marker=dict(size=2.5, color=f"rgb({r},{g},{b})", opacity=0.8),
            customdata=np.stack([index[mine], np.full(mine.sum(), name)], axis=1),
            hovertemplate="class %{customdata[1]}<br>test image %{customdata[0]}<extra></extra>"))
    fig.update_layout(title=f"The 3-D code of {len(codes):,} test images (drag to turn, scroll to zoom)",
                      scene=dict(xaxis_title="z1", yaxis_title="z2", zaxis_title="z3"),
                      legend=dict(title="class", itemsizing="constant"), margin=dict(l=0, r=0, t=40, b=0))
    html = fig.to_html(include_plotlyjs=True, full_html=True, config=dict(displaylogo=False))
    atomic_write(path, lambda tmp: tmp.write_text(html, encoding="utf-8"))
    return path


def latent_3d_gif(model, split, path, frames=24, max_points=2000, seconds=6):
    """A rotating view of the 3-D code (a full turn in `frames` frames), written to path as an animated GIF."""
    codes, labels = scatter_points(model, split, max_points)
    palette = class_colors(len(split.classes))
    fig = plt.figure(figsize=(5.2, 4.6), dpi=80)
    ax = fig.add_subplot(projection="3d")
    scatter_3d(ax, codes, labels, palette, 3)
    # the turn shows the shape; tick numbers would be most of the drawing time (about 70 texts laid out again
    # in every frame)
    ax.tick_params(labelbottom=False, labelleft=False)
    free = class_legend(fig, split.classes, palette)
    fig.suptitle(f"The 3-D code of {len(codes):,} test images")
    fig.subplots_adjust(left=0, right=free, bottom=0.02, top=0.92)
    turn = animation.FuncAnimation(fig, lambda i: ax.view_init(elev=20, azim=i * 360 / frames), frames=frames)
    atomic_write(path, lambda tmp: turn.save(tmp, writer=animation.PillowWriter(fps=frames / seconds)))
    plt.close(fig)
    return path
