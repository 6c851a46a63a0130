"""Progress bars on long work (training, preparing a folder of images). In a notebook the bar is plain text in the
cell's output, so that a notebook saved headless shows its last state (100% at the end) rather than a widget's
first frame; in a terminal it goes to stderr, where it does not mix with what a command prints."""
import sys

from tqdm.std import tqdm


def progress_bar(**kwargs):
    """A tqdm bar (its keyword arguments: total, desc, unit, disable, leave, ...) for where this process runs."""
    if "ipykernel" in sys.modules:  # a notebook's kernel: a text bar on stdout (stderr would be shown in red)
        return tqdm(file=sys.stdout, ncols=160, mininterval=1.0, **kwargs)
    return tqdm(**kwargs)
