"""The wheel installs one top-level package, `implementor`, with its bundled models as data, and nothing else:
no generic top-level names beside it, and neither the benchmarks nor the tests' support."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[1]


def build_wheel(tmp_path: Path) -> zipfile.ZipFile:
    """A wheel built from a copy of the tracked files (setuptools writes build/ beside the sources)."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    source = tmp_path / "source"
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "--wheel-dir", str(tmp_path / "dist"), str(source)], check=True, timeout=300)
    [wheel] = (tmp_path / "dist").glob("*.whl")
    return zipfile.ZipFile(wheel)


def test_the_wheel_holds_one_top_level_package_and_its_data(tmp_path: Path) -> None:
    with build_wheel(tmp_path) as wheel:
        names = wheel.namelist()
        [info] = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
        assert wheel.read(f"{info}/top_level.txt").decode().split() == ["implementor"]
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert {n.split("/")[0] for n in names} == {"implementor", info}
    assert "implementor = implementor.cli.main:main" in entry_points
    bundled = {n.split("/")[3] for n in names if n.startswith("implementor/models/bundled/")}
    assert bundled == {p.name for p in (ROOT / "implementor" / "models" / "bundled").iterdir() if p.is_dir()}
    for model in ("face-lfw", "writer-smollm2", "realism-minilm", "quality-minilm", "judge-realism"):
        assert f"implementor/models/bundled/{model}/card.json" in names, model
    assert not [n for n in names if "/tests/" in n or n.startswith(("bench/", "tests/"))]
