"""`implementor introduce` and `implementor project` on the embedded worker, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "implementor", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600)


def test_introduce_writes_a_face_and_a_cv(tiny_env: dict[str, str], tmp_path: Path) -> None:
    result = run(["introduce", "--name", "Ada Lovelace", "--title", "Data Scientist", "--seed", "7",
                  "--out", "hire"], tiny_env, tmp_path)
    assert result.returncode == 0, result.stderr
    cv = (tmp_path / "hire" / "cv.md").read_text()
    assert cv.startswith("# Ada Lovelace\n**Data Scientist**")
    assert cv.strip() in result.stdout  # the CV is shown, not only written
    assert Image.open(tmp_path / "hire" / "face.png").size == (256, 256)
    assert "introduce: loading models" in result.stderr and "introduce: done" in result.stderr
    assert "face.png" in result.stdout and "cv.md" in result.stdout


def test_project_prints_the_reply_and_can_explain(tiny_env: dict[str, str], tmp_path: Path) -> None:
    result = run(["project", "Could someone help us plan the spring launch?", "--explain"], tiny_env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "P(real)  quality  verdict" in result.stdout
    assert result.stdout.count("\n") >= 5


def test_project_refuses_a_too_short_request(tiny_env: dict[str, str], tmp_path: Path) -> None:
    result = run(["project", "help"], tiny_env, tmp_path)
    assert result.returncode == 2
    assert "10 to 1500 characters" in result.stderr


def test_worker_needs_a_broker(tmp_path: Path) -> None:
    result = run(["worker"], {}, tmp_path)
    assert result.returncode == 2 and "IMPLEMENTOR_BROKER_URL" in result.stderr
