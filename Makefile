# make run:        set up .venv from the lock, execute ConAE.ipynb headless, extract its figures into outputs/
# make test:       set up .venv from the lock, run the test suite (all of it but the reproduce tier, which CI
#                  runs after it: make reproduce)
# make quick:      the tests that take seconds (not those marked slow): the edit loop, under 40 s
# make notebooks:  run the notebook once per data set available offline, into runs/notebooks/
# make reproduce:  the reproduce tier: re-execute the committed notebook, check it and compare its numbers with
#                  outputs/metrics.json (CI runs it after make test)
# make mutants:    mutation testing (mutmut) of the modules pyproject.toml names, one mutant in five (MUTANTS= for all),
#                  then the share the tests catch
# make model:      rebuild the model that ships inside conae (conae/models/), from the 5,000-digit sample, seed 0
# make lock:       resolve requirements.txt again from pyproject.toml (after changing a dependency)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test quick notebooks reproduce mutants model lock setup clean

run: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace ConAE.ipynb
	$(BIN)/jupyter nbconvert --to notebook --inplace --coalesce-streams ConAE.ipynb  # each bar's last state only
	$(BIN)/python extract_images.py ConAE.ipynb outputs

test: setup
	$(BIN)/python -m pytest -q

quick: setup
	$(BIN)/python -m pytest -q -m "not slow"

notebooks: setup
	$(BIN)/python -m tools.run_notebooks

reproduce: setup
	$(BIN)/python -m pytest -q -m reproduce

# mutmut copies the checkout into mutants/ and runs the quick tests there, so they are told where ../shared/data is;
# it runs one mutant per core, so each gets one thread (two threads on one core spin against each other); MUTANTS is
# the sample bench/mutants.py describes
MUTANTS ?= "*__mutmut_*[37]"
mutants: setup
	rm -rf mutants
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 CONAE_SHARED_DATA=$(abspath ../shared/data) $(BIN)/mutmut run $(MUTANTS)
	$(BIN)/python -m bench.mutants

model: setup
	$(BIN)/python -m tools.make_model

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
	rm -rf $(VENV) runs .pytest_cache mutants
