"""Maintainer commands that the Makefile wraps: `make notebooks` (run_notebooks), `make model` (make_model). Run
from the repository root as python -m tools.NAME."""
