"""conae: a convolutional autoencoder that squeezes handwritten digits into a 3-number code."""
from .config import PRESETS, Config, make_config
from .data import DataError, Split, load_data, subset
from .model import ConvAE
from .checkpoint import load_checkpoint, save_checkpoint
from .train import fit
from .pad import draw

__all__ = ["Config", "ConvAE", "DataError", "PRESETS", "Split", "draw", "fit", "load_checkpoint", "load_data",
           "make_config", "save_checkpoint", "subset"]
