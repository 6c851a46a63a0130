# make run:  set up .venv, execute ConAE.ipynb headless, extract its figures into outputs/
# make test: set up .venv, run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup clean

run: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace ConAE.ipynb
	$(BIN)/python extract_images.py ConAE.ipynb outputs

test: setup
	$(BIN)/python -m pytest -q

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	touch $@

clean:
	rm -rf $(VENV) runs .pytest_cache
