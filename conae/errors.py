"""Errors the user can fix. The command line prints them as one `error: ...` line; in a notebook, IPython's
_render_traceback_ hook shows them as one line too, instead of a traceback through conae's code."""


class UserError(Exception):
    """A problem in what the user asked for or gave; its message says what is wrong and what to do."""

    def _render_traceback_(self):
        return [f"{type(self).__name__}: {self}"]
