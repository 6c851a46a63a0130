"""conae: a convolutional autoencoder that squeezes handwritten characters into a 3-number code.

`import conae` is light: each name below loads its module (and torch, matplotlib, ...) when first used, so that
`conae --help` answers before any library loads."""
import importlib

HOME = {  # each public name and the module it lives in
    "Config": "config", "PRESETS": "config", "make_config": "config",
    "DataError": "datasets", "Split": "datasets",
    "load_data": "data", "subset": "data",
    "ConvAE": "model",
    "load_checkpoint": "checkpoint", "save_checkpoint": "checkpoint",
    "fit": "train",
    "draw": "pad",
}
__all__ = sorted(HOME)


def __getattr__(name):
    if name not in HOME:
        raise AttributeError(f"module 'conae' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{HOME[name]}", __name__), name)
    globals()[name] = value  # found once
    return value


def __dir__():
    return sorted(set(globals()) | set(HOME))
