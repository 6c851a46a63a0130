"""A drawing pad for Jupyter: write characters with a mouse, a pen or a finger (an ipycanvas canvas inside
ipywidgets) and watch conae read them at the end of each stroke, by the very path `conae recognise` takes
(conae.recognise.read): the strokes rendered as an image (rendered), its characters found and prepared as MNIST
was made, their codes voted on by the nearest training codes. Beside the pad: each character as the model sees it
(28x28) and its reconstruction from the code, its nearest training images, the vote, and the codes as points
among the training codes in 3-D.

    from conae import draw; draw()     # the model that ships with conae
    draw(reference)                     # any trained model: a model.pt's path or a conae.recognise.Reference
"""
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image, ImageDraw

from .bundled import BUNDLED
from .prepare import ImageError
from .recognise import Reference, load_reference, read
from .viz import class_colors, class_legend, figure_png, png_grid, scatter_3d, with_picture

PAD = (560, 240)  # width and height in pixels: room for a number of about six characters
PEN = 16          # the pen's width in pixels to start with (MNIST's strokes are about a tenth of a character's height)
SHOWN = 2000      # training codes in the 3-D view (enough to show the shape, quick to draw at each stroke)
CELL = 56         # pixels per 28x28 image beside the pad


def rendered(strokes, size=PAD):
    """strokes [(pen width, [(x, y), ...]), ...] -> a PIL grey image of them, dark ink on white paper, each drawn as
    a pen draws it: round ends and round joints (a stroke of one point is a dot)."""
    page = Image.new("L", tuple(size), 255)
    draw = ImageDraw.Draw(page)
    for width, points in strokes:
        points = [(float(x), float(y)) for x, y in points]
        if len(points) > 1:
            draw.line(points, fill=0, width=max(1, round(width)), joint="curve")
        r = width / 2
        for x, y in {points[0], points[-1]}:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
    return page


def arc(cx, cy, rx, ry, start, stop, n=20):
    """Points on an ellipse's arc, angles in turns: x = cx + rx sin, y = cy - ry cos (0 is the top, clockwise)."""
    a = 2 * np.pi * np.linspace(start, stop, n)
    return np.stack([cx + rx * np.sin(a), cy - ry * np.cos(a)], 1)


# pen paths of the digits in a unit box (x to the right, y down), one array of points per stroke
DIGIT_PATHS = {
    "0": [arc(0.5, 0.5, 0.45, 0.5, 0, 1, 32)],
    "1": [np.array([[0.25, 0.2], [0.55, 0.0], [0.55, 1.0]])],
    "2": [np.concatenate([arc(0.5, 0.3, 0.45, 0.3, -0.2, 0.38), [[0.0, 1.0], [1.0, 1.0]]])],
    "3": [np.concatenate([arc(0.45, 0.25, 0.45, 0.25, -0.2, 0.5), arc(0.45, 0.75, 0.5, 0.25, 0, 0.7)[1:]])],
    "4": [np.array([[0.7, 1.0], [0.7, 0.0], [0.0, 0.68], [1.0, 0.68]])],
    "5": [np.concatenate([[[0.9, 0.0], [0.15, 0.0], [0.1, 0.42]], arc(0.45, 0.68, 0.5, 0.3, 0, 0.6)])],
    "6": [np.concatenate([arc(0.85, 0.75, 0.75, 0.75, 0, -0.25, 12), arc(0.5, 0.75, 0.4, 0.25, -0.25, 0.75, 28)[1:]])],
    "7": [np.array([[0.0, 0.0], [1.0, 0.0], [0.35, 1.0]])],
    "8": [np.stack([0.5 + 0.42 * np.sin(2 * np.pi * s), 0.5 - 0.5 * np.cos(np.pi * s)], 1)
          for s in [np.linspace(0, 2, 48)]],
    "9": [np.concatenate([arc(0.5, 0.28, 0.45, 0.28, 0.25, -0.75, 28), [[0.85, 1.0]]])],
}


def digit_strokes(digits, left=30, top=50, height=130, width=PEN):
    """Strokes of digits written side by side as a person might on the pad (the notebook's example, the tests):
    each digit's pen path in a box `height` tall and 0.6 of that wide, starting at (left, top)."""
    strokes, x = [], left
    for digit in digits:
        strokes += [(width, [(float(x + 0.6 * height * px), float(top + height * py)) for px, py in path])
                    for path in DIGIT_PATHS[digit]]
        x += 0.6 * height + 0.35 * height
    return strokes


class Pad:
    """The drawing pad: a canvas to write on (round pen, width adjustable, "undo last stroke", "clear") and, at
    the end of each stroke, what conae reads in it. Displayed in Jupyter it is a live widget; elsewhere (a notebook
    viewer, extract_images.py) the same display carries a static picture of its state (figure())."""

    def __init__(self, reference=None, k=5, size=PAD, strokes=()):
        import ipywidgets as widgets  # imported here: only the notebook needs them
        from ipycanvas import Canvas

        self.reference = reference if isinstance(reference, Reference) else load_reference(reference or BUNDLED)
        self.k, self.size = k, tuple(size)
        self.strokes = [(width, list(points)) for width, points in strokes]  # finished strokes
        self.drawing = None  # the stroke being drawn
        self.reading, self.problem = None, None
        self.shown = np.random.default_rng(0).permutation(len(self.reference.train_codes))[:SHOWN]
        self.canvas = Canvas(width=self.size[0], height=self.size[1],
                             layout=widgets.Layout(width=f"{self.size[0]}px", height=f"{self.size[1]}px",
                                                   border="1px solid #888"))
        self.canvas.add_class("conae-pad")
        self.canvas.on_mouse_down(self.pen_down)
        self.canvas.on_mouse_move(self.pen_moves)
        self.canvas.on_mouse_up(self.pen_up)
        self.canvas.on_mouse_out(self.pen_up)
        self.canvas.on_touch_start(lambda touches: self.pen_down(*touches[0]))  # a finger: its first touch
        self.canvas.on_touch_move(lambda touches: self.pen_moves(*touches[0]))
        self.canvas.on_touch_end(lambda touches: self.pen_up())
        self.pen = widgets.IntSlider(value=PEN, min=4, max=40, description="pen width")
        self.undo_button = widgets.Button(description="undo last stroke", icon="undo")
        self.clear_button = widgets.Button(description="clear", icon="trash")
        self.undo_button.add_class("conae-pad-undo")
        self.clear_button.add_class("conae-pad-clear")
        self.undo_button.on_click(lambda button: self.undo())
        self.clear_button.on_click(lambda button: self.clear())
        self.vote = widgets.HTML()
        self.vote.add_class("conae-pad-vote")
        self.seen = widgets.Image(format="png")
        self.view = widgets.Image(format="png")
        self.widget = widgets.VBox([
            widgets.HBox([self.canvas, widgets.VBox([self.pen, self.undo_button, self.clear_button, self.vote])]),
            widgets.HBox([widgets.VBox([widgets.HTML(f"<b>Each character as the model sees it, its reconstruction "
                                                     f"from the code, and its {k} nearest training images</b>"),
                                        self.seen]), self.view])])
        self.redraw_canvas()
        self.update()

    # --- the pen ---

    def pen_down(self, x, y):
        self.drawing = (self.pen.value, [(x, y)])
        self.canvas.fill_style = "black"
        self.canvas.fill_circle(x, y, self.pen.value / 2)

    def pen_moves(self, x, y):
        if self.drawing is None:
            return
        width, points = self.drawing
        self.canvas.line_width, self.canvas.line_cap, self.canvas.stroke_style = width, "round", "black"
        self.canvas.stroke_line(*points[-1], x, y)
        points.append((x, y))

    def pen_up(self, x=None, y=None):
        if self.drawing is None:
            return
        self.strokes.append(self.drawing)
        self.drawing = None
        self.update()

    def undo(self):
        """Takes the last stroke away."""
        if self.strokes:
            self.strokes.pop()
        self.redraw_canvas()
        self.update()

    def clear(self):
        """Takes every stroke away."""
        self.strokes = []
        self.redraw_canvas()
        self.update()

    def redraw_canvas(self):
        from ipycanvas import hold_canvas
        with hold_canvas():
            self.canvas.clear()
            self.canvas.fill_style = "white"
            self.canvas.fill_rect(0, 0, *self.size)
            self.canvas.fill_style = self.canvas.stroke_style = "black"
            self.canvas.line_cap, self.canvas.line_join = "round", "round"
            for width, points in self.strokes:
                self.canvas.line_width = width
                if len(points) > 1:
                    self.canvas.stroke_lines(points)
                for x, y in {points[0], points[-1]}:
                    self.canvas.fill_circle(x, y, width / 2)

    # --- what conae reads ---

    def image(self):
        """The drawing as an image: what `conae recognise` reads when it is saved (save())."""
        return rendered(self.strokes, self.size)

    def save(self, path):
        """Saves the drawing as a PNG, for `conae recognise` or anything else."""
        self.image().save(path)
        return path

    def read(self):
        """Reads the drawing (conae.recognise.read): sets self.reading, or self.problem (one line) where there is
        nothing to read yet or it cannot be read."""
        self.reading, self.problem = None, None
        if not self.strokes:
            self.problem = "The pad is empty: write a character, or a number, with the mouse, a pen or a finger."
        elif all(len(points) == 1 for _, points in self.strokes):
            self.problem = "Only dots so far: draw a stroke (press, move, let go)."
        else:
            try:
                self.reading = read(self.image(), self.reference, self.k, "the pad")
            except ImageError as e:
                problem = str(e).replace("the pad: ", "", 1)
                self.problem = problem[:1].upper() + problem[1:]
        return self.reading

    def update(self):
        self.read()
        if self.reading is None:
            self.vote.value = f"<div style='padding:8px;max-width:260px'>{self.problem}</div>"
            self.seen.value = png_grid([[np.zeros((28, 28))]], CELL)
        else:
            found = self.reading["characters"]
            rows = [[c["prepared"], c["reconstruction"]] + [self.reference.train_images[j] for j in c["nearest"]]
                    for c in found]
            self.seen.value = png_grid(rows, CELL)
            self.vote.value = self.vote_html()
        self.view.value = figure_png(self.code_view(), dpi=72)

    def vote_html(self):
        found = self.reading["characters"]
        lines = []
        for n, c in enumerate(found):
            runner = (f"runner-up {c['runner_up']['label']} ({c['runner_up']['votes']:.0%})" if c["runner_up"]
                      else "no runner-up")
            code = ", ".join(f"{v:.2f}" for v in c["code"][:3])
            lines.append(f"<span class='conae-pad-character'>{n + 1}: <b>{c['label']}</b> with "
                         f"{c['votes']:.0%} of the {self.k} votes, {runner}; code ({code})</span>")
        strokes = f"{len(self.strokes)} stroke{'s' * (len(self.strokes) != 1)}"
        return (f"<div style='padding:8px;max-width:320px'>read as<br><span class='conae-pad-text' "
                f"style='font-size:2.4em'><b>{self.reading['text']}</b></span><br>{'<br>'.join(lines)}<br>"
                f"<span class='conae-pad-strokes' style='color:#777'>{strokes}</span></div>")

    def code_view(self):
        """The training codes in 3-D (a sample of SHOWN), coloured by class, with the drawing's characters as
        black stars numbered as in the vote."""
        ref = self.reference
        palette = class_colors(len(ref.classes))
        fig = plt.figure(figsize=(4.6, 4.0))
        ax = fig.add_subplot(projection="3d")
        scatter_3d(ax, ref.train_codes[self.shown], ref.train_labels[self.shown], palette, 2)
        if self.reading is not None:
            codes = np.array([c["code"][:3] for c in self.reading["characters"]])
            ax.scatter(*codes.T, marker="*", s=220, c="black", depthshade=False, label="your characters")
            for n, point in enumerate(codes):
                ax.text(*point, f" {n + 1}", fontsize=11, weight="bold")
            ax.legend(loc="upper left", fontsize=8)
        ax.set_xlabel("z1")
        ax.set_ylabel("z2")
        ax.set_zlabel("z3")
        ax.set_title(f"The code: {len(self.shown):,} training images\nand what you wrote", fontsize=10)
        fig.subplots_adjust(left=0, right=class_legend(fig, ref.classes, palette), bottom=0.02, top=0.9)
        return fig

    def figure(self):
        """The pad's state as a matplotlib figure (what a viewer without a kernel shows)."""
        found = self.reading["characters"] if self.reading else []
        fig = plt.figure(figsize=(11, 4.4))
        grid = fig.add_gridspec(2, max(2, 2 * len(found)), height_ratios=[2.3, 1])
        top = fig.add_subplot(grid[0, :])
        top.imshow(self.image(), cmap="gray", vmin=0, vmax=255)
        for n, c in enumerate(found):
            x, y, width, height = c["box"]
            top.add_patch(plt.Rectangle((x, y), width, height, fill=False, edgecolor="tab:red", lw=1.5))
            top.text(x, y - 3, f"{n + 1}: {c['label']} ({c['votes']:.0%})", color="tab:red", fontsize=10)
        top.set_xticks([])
        top.set_yticks([])
        top.set_title(f"The drawing pad: read as {self.reading['text']}" if self.reading else self.problem)
        for n, c in enumerate(found):
            for m, (image, title) in enumerate([(c["prepared"].numpy(), f"{n + 1}: as seen"),
                                                (c["reconstruction"].numpy(), f"{n + 1}: rebuilt")]):
                ax = fig.add_subplot(grid[1, 2 * n + m])
                ax.imshow(image, cmap="gray_r", vmin=0, vmax=255 if image.max() > 1 else 1)
                ax.set_title(title, fontsize=9)
                ax.axis("off")
        fig.suptitle("Write on the pad in Jupyter: each stroke is read as conae recognise reads an image")
        fig.tight_layout()
        return fig

    def _repr_mimebundle_(self, **kwargs):
        return with_picture(self.widget, self.figure(), **kwargs)


def draw(reference=None, k=5, strokes=()):
    """The notebook's one line: a drawing pad read by reference (a conae.recognise.Reference or a model.pt's
    path; default: the model that ships with conae), starting with the given strokes (digit_strokes())."""
    return Pad(reference, k, strokes=strokes)
