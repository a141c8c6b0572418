# The Implementor: set-up and everyday targets. Every target installs what it needs into .venv first.
# CPU torch is installed before the project so that pip never pulls the multi-GB CUDA build.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
TORCH  ?= torch==2.13.0

.PHONY: install face test lint typecheck bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

face: install  ## the main job: a face PNG from the bundled model
	$(BIN)/implementor face --seed 7 --out face.png

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck  ## what CI runs: lint, types, then the test suite
	$(BIN)/pytest

bench: install
	$(BIN)/implementor bench face

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
