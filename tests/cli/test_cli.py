"""The `implementor` command, end to end: in-process with Typer's runner, and as a real subprocess."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from implementor.cli.main import app
from implementor.training.face.data import lfw_faces

runner = CliRunner()


def implementor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the real command in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-m", "implementor", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_face_writes_the_same_png_for_the_same_seed(tmp_path: Path) -> None:
    for name in ("a.png", "b.png"):
        result = runner.invoke(app, ["face", "--seed", "7", "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert "seed 7" in result.output
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert Image.open(io.BytesIO((tmp_path / "a.png").read_bytes())).size == (256, 256)


def test_face_without_a_seed_says_which_one_it_used(tmp_path: Path) -> None:
    result = runner.invoke(app, ["face", "--out", str(tmp_path / "f.png"), "--size", "128"])
    assert result.exit_code == 0, result.output
    assert "using seed" in result.output


def test_face_reads_the_model_from_settings(tmp_path: Path, tiny_checkpoint: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPLEMENTOR_FACE_MODEL", str(tiny_checkpoint))
    monkeypatch.setenv("IMPLEMENTOR_FACE_PNG_SIZE", "128")
    result = runner.invoke(app, ["face", "--seed", "1", "--out", str(tmp_path / "f.png")])
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "f.png").size == (128, 128)


def test_a_missing_model_directory_is_one_clear_line(tmp_path: Path) -> None:
    result = implementor("face", "--seed", "1", "--model", str(tmp_path / "nope"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: no checkpoint at {tmp_path / 'nope'}: the directory does not exist"
    assert not (tmp_path / "face.png").exists()


def test_train_resume_and_eval_through_the_command(tmp_path: Path) -> None:
    tiny = ["--nz", "16", "--ngf", "8", "--ndf", "8", "--batch-size", "8", "--sample-every", "1", "--device", "cpu"]
    first = implementor("train", "face", "--out", "ck", "--steps", "2", *tiny, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "train face" in first.stderr  # the progress bar
    again = implementor("train", "face", "--out", "ck", "--steps", "3", *tiny, cwd=tmp_path)
    assert again.returncode == 2 and "--resume" in again.stderr
    resumed = implementor("train", "face", "--out", "ck", "--steps", "3", "--resume", "--device", "cpu", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    card = json.loads((tmp_path / "ck" / "card.json").read_text())
    assert card["steps"] == 3
    assert card["command"].startswith("implementor train face --out ck --steps 3 --resume")
    assert sorted(p.name for p in (tmp_path / "ck" / "samples").iterdir()) == [
        "step_000001.png", "step_000002.png", "step_000003.png"]

    evaluated = implementor("eval", "face", "ck", "--n", "30", "--record", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads((tmp_path / "ck" / "eval_face.json").read_text())
    assert report["n"] == 30 and report["data"] == "lfw"
    assert {"face_rate", "diversity", "memorisation", "passed"} <= report.keys()
    card = json.loads((tmp_path / "ck" / "card.json").read_text())
    assert card["metrics"]["eval"]["face_rate"] == report["face_rate"]


def test_faces_prepare_reports_and_fails_when_nothing_is_found(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    canvas = np.full((300, 300), 140, np.uint8)
    canvas[90:210, 90:210] = cv2.resize((lfw_faces()[0] * 255).astype(np.uint8), (120, 120))
    cv2.imwrite(str(photos / "ada.png"), canvas)
    (photos / "bad.jpg").write_bytes(b"garbage")
    result = runner.invoke(app, ["faces", "prepare", str(photos), str(tmp_path / "crops")])
    assert result.exit_code == 0, result.output
    assert "2 photos: 1 face crops written, 0 with no face found, 1 unreadable" in result.output
    assert "bad.jpg" in result.output

    (photos / "ada.png").unlink()
    cv2.imwrite(str(photos / "wall.png"), np.full((100, 100), 90, np.uint8))
    failed = implementor("faces", "prepare", str(photos), str(tmp_path / "crops2"), cwd=tmp_path)
    assert failed.returncode == 2
    assert "no face crops were written" in failed.stderr
