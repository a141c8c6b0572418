# The Implementor: set-up and everyday targets. Every target installs what it needs into .venv first.
# Installs are pinned: requirements/cpu.txt is the lock (every package, exact versions; `make lock`
# recompiles it with uv), installed with --no-deps so that pip adds nothing the lock does not name.
# torch comes first, as its CPU build (torch==2.13.0+cpu): from PyTorch's CPU index or, where that index
# cannot be reached (a mirror of PyPI only), from pip's own configured sources (find-links, a mirror).
# PyPI has no +cpu build, so with neither the install fails; it never falls back to the CUDA build.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
LOCK   ?= requirements/cpu.txt
TORCH  := $(shell grep -E '^torch==' $(LOCK))
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
# Where `make lock` finds torch's CPU build; on a host without PyPI's CPU index: TORCH_SOURCE="--find-links DIR"
TORCH_SOURCE ?= --torch-backend cpu
# Every lock serves each Python that pyproject's requires-python allows (3.11 to 3.13): a universal resolution
# from the oldest, so a package only one version needs gets a marker (audioop-lts ; python_full_version >= '3.13',
# which discord.py needs there) and every other pin is the same for all. tests/test_locks.py resolves each lock
# for each version against PyPI.
UV_COMPILE = $(BIN)/uv pip compile --universal --python-version 3.11 \
  --index-url https://pypi.org/simple --no-emit-index-url --no-emit-find-links --no-emit-package the-implementor \
  --custom-compile-command "make lock" --quiet

.PHONY: install introduce face test test-torchfree lint typecheck docs docs-images bench clean lock check-install

# LLAMA_CPP=0 skips building the optional llama.cpp engine (a source build: a few minutes on 2 cores).
LLAMA_CPP ?= 1

$(BIN)/.installed: pyproject.toml $(LOCK) requirements/no-deps.txt requirements/llama-cpp.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24,<27"
	$(BIN)/python -m pip install --quiet --no-deps --timeout 20 --retries 1 --index-url $(TORCH_INDEX) $(TORCH) \
	  || $(BIN)/python -m pip install --quiet --no-deps $(TORCH)
	$(BIN)/python -m pip install --quiet --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -r requirements/no-deps.txt
	[ "$(LLAMA_CPP)" = 0 ] || requirements/build_llama_cpp.sh $(BIN)/python \
	  || echo "warning: llama-cpp-python did not build; the writer drafts with CTranslate2 instead (slower on a CPU)"
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
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

test: lint typecheck docs test-torchfree  ## what CI runs: lint, types, the docs, the torch-free tests, then the whole suite
	$(BIN)/pytest

# The docs site (mkdocs.yml, docs/): MkDocs and the Material theme from their own lock, installed --no-deps into
# .venv (docs.in holds what they share with the CPU lock at its versions). --strict: a broken link or a page
# missing from the navigation fails the build, and the configuration page is rendered from the settings.
$(BIN)/.docs-installed: $(BIN)/.installed requirements/docs.txt
	$(BIN)/python -m pip install --no-deps -r requirements/docs.txt --quiet
	touch $@

docs: $(BIN)/.docs-installed  ## the docs site, built strictly into site/
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# The docs' pictures of Discord, from a fresh end-to-end run: the real bot, a real worker with the bundled
# models and the fake Discord API; docs/render_discord.py lays out what it received (colour emoji need
# Debian's fonts-noto-color-emoji). A few minutes on 2 cores.
docs-images: install
	rm -rf out/discord
	IMPLEMENTOR_E2E_BUNDLED=1 IMPLEMENTOR_E2E_CAPTURE=out/discord $(BIN)/pytest -q -p no:cacheprovider \
	  tests/bot/test_discord_e2e.py -k "introduce_is or project_is or conversation"
	$(BIN)/python docs/render_discord.py out/discord/introduce.json docs/discord-introduce.png
	$(BIN)/python docs/render_discord.py out/discord/project.json docs/discord-project.png
	$(BIN)/python docs/render_discord.py out/discord/conversation.json docs/discord-conversation.png

# The bot's image has no torch: its tests and the contracts' run in a venv from the bot's lock alone.
BOT_VENV ?= .venv-bot
$(BOT_VENV)/.installed: pyproject.toml requirements/bot-test.txt
	$(PYTHON) -m venv $(BOT_VENV)
	$(BOT_VENV)/bin/python -m pip install --quiet --upgrade "pip>=24,<27"
	$(BOT_VENV)/bin/python -m pip install --quiet --no-deps -r requirements/bot-test.txt
	$(BOT_VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

test-torchfree: $(BOT_VENV)/.installed  ## tests/bot, tests/store and tests/contracts where torch cannot be imported
	$(BOT_VENV)/bin/python -c "import importlib.util as u, sys; sys.exit('torch is installed in $(BOT_VENV)' if u.find_spec('torch') else 0)"
	$(BOT_VENV)/bin/pytest -q -p no:cacheprovider tests/bot tests/store tests/contracts

bench: install  ## every benchmark; results go to bench/results/<this machine>/, then one table per machine
	$(BIN)/python -m bench decode
	$(BIN)/python -m bench text
	$(BIN)/python -m bench e2e
	$(BIN)/python -m bench face
	$(BIN)/python -m bench quantisation
	$(BIN)/python -m bench rerank
	$(BIN)/python -m bench encoder
	$(BIN)/python -m bench queue
	$(BIN)/python -m bench summary

lock: install  ## recompile requirements/*.txt from pyproject.toml and requirements/*.in (uv, from the lock)
	$(UV_COMPILE) requirements/cpu.in -o requirements/cpu.txt $(TORCH_SOURCE)
	$(UV_COMPILE) requirements/gpu.in -o requirements/gpu.txt
	$(UV_COMPILE) requirements/bot.in -o requirements/bot.txt
	$(UV_COMPILE) requirements/bot-test.in -o requirements/bot-test.txt
	$(UV_COMPILE) requirements/docs.in -o requirements/docs.txt

# Where PyTorch's CPU index cannot be reached: make check-install CHECK_INSTALL_ARGS="--torch-from DIR"
check-install: install  ## a dry run of the CPU install against the public index: no nvidia-* package (needs the network)
	$(BIN)/python requirements/check_install.py $(CHECK_INSTALL_ARGS) $(LOCK)

clean:
	rm -rf $(VENV) $(BOT_VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
