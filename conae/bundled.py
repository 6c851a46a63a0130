"""The model that ships inside the package (conae/models/, rebuilt by `make model`): where it is and what it is.
Light on purpose: `conae recognise --help` reads it before any library loads."""
import json
from pathlib import Path

# a neighbours model of MNIST digits: the default of `conae recognise --model` and of draw()
BUNDLED = Path(__file__).resolve().parent / "models" / "mnist-neighbours.pt"
ABOUT = BUNDLED.with_suffix(".json")  # what it is, its numbers and the command that made it


def about_line():
    """What the bundled model is, in one line (recognise --about and --help)."""
    try:
        about = json.loads(ABOUT.read_text())
    except (OSError, ValueError):
        return "this installation has no bundled model: pass --model"
    return (f"{about['what']} ({about['preset']} preset, seed {about['seed']}, {about['precision']}); "
            f"{about['data']}: test BCE {about['test_bce']:.4f}, 5-NN {about['knn_accuracy']['5']:.3f}; made by "
            f"`{about['command']}`. {about['credit']}.")
