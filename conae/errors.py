"""Errors the user can fix, and the two ways training stops early. The command line prints a UserError as one
`error: ...` line; in a notebook, IPython's _render_traceback_ hook shows it as one line too, instead of a traceback
through conae's code."""


class UserError(Exception):
    """A problem in what the user asked for or gave; its message says what is wrong and what to do."""

    def _render_traceback_(self):
        return [f"{type(self).__name__}: {self}"]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, where the caller turns it into KeyboardInterrupt) during training."""

    def __init__(self, saved):
        super().__init__(saved)
        self.saved = saved  # the history entry the checkpoint ends with (None: nothing saved yet)


def describe(point):
    """A history point as messages name it: "step 790 (epoch 10)"."""
    return f"step {point['step']:,} (epoch {point['epoch']:g})"
