# make run:        set up .venv from the lock, execute ConAE.ipynb headless, extract its figures into outputs/
# make test:       set up .venv from the lock, run the test suite (all of it: what CI runs)
# make quick:      the tests that take seconds (not those marked slow): the edit loop, under a minute
# make notebooks:  run the notebook once per data set available offline, into runs/notebooks/
# make reproduce:  re-execute the committed notebook and compare its numbers with outputs/metrics.json
# make lock:       resolve requirements.txt again from pyproject.toml (after changing a dependency)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test quick notebooks reproduce lock setup clean

run: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace ConAE.ipynb
	$(BIN)/python extract_images.py ConAE.ipynb outputs

test: setup
	$(BIN)/python -m pytest -q

quick: setup
	$(BIN)/python -m pytest -q -m "not slow"

notebooks: setup
	$(BIN)/python run_notebooks.py

reproduce: setup
	$(BIN)/python -m pytest -q tests/test_reproduce.py

setup: $(VENV)/.installed

# every package at the version and hash the lock names; then conae itself, editable, built with the locked
# setuptools and no further packages
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --require-hashes -r requirements.txt
	$(BIN)/python -m pip install --no-deps --no-build-isolation -e .
	touch $@

lock:
	$(PYTHON) -m venv .lock-venv && .lock-venv/bin/python -m pip install -q uv
	.lock-venv/bin/uv pip compile pyproject.toml --all-extras --universal --generate-hashes --python-version 3.10 \
		-c constraints.txt -o requirements.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) runs .pytest_cache
