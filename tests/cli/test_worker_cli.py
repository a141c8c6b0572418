"""`implementor introduce` and `implementor project` on the embedded worker, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "implementor", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=timeout)


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


def test_project_answers_as_the_colleague_introduce_just_hired(tiny_env: dict[str, str], tmp_path: Path) -> None:
    hired = run(["introduce", "--name", "Ada Lovelace", "--title", "Data Scientist", "--seed", "7", "--out", "."],
                tiny_env, tmp_path)
    assert hired.returncode == 0, hired.stderr
    result = run(["project", "Could someone help us plan the spring launch?"], tiny_env, tmp_path)  # ./cv.md
    assert result.returncode == 0, result.stderr
    assert "answering as Ada Lovelace, Data Scientist (from cv.md)" in result.stderr
    (tmp_path / "elsewhere").mkdir()
    elsewhere = run(["project", "Could someone help us plan the spring launch?"], tiny_env, tmp_path / "elsewhere")
    assert "answering as" not in elsewhere.stderr  # no CV there: no colleague is made up


def test_project_names_a_colleague_file_it_cannot_use(tiny_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("just some notes")
    for path in ("missing.md", "notes.md"):
        result = run(["project", "Could someone help us plan the spring launch?", "--colleague", path], tiny_env,
                     tmp_path)
        assert result.returncode == 2 and f"--colleague {path}" in result.stderr
        assert "Traceback" not in result.stderr


def test_project_refuses_a_too_short_request(tiny_env: dict[str, str], tmp_path: Path) -> None:
    result = run(["project", "help"], tiny_env, tmp_path)
    assert result.returncode == 2
    assert "10 to 1500 characters" in result.stderr


def test_worker_needs_a_broker(tmp_path: Path) -> None:
    result = run(["worker"], {}, tmp_path)
    assert result.returncode == 2 and "IMPLEMENTOR_BROKER_URL" in result.stderr


def test_an_unreachable_broker_is_one_clear_line_not_minutes_of_retries(tmp_path: Path) -> None:
    from local_stack import free_port

    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"  # nothing listens there
    for command in (["introduce"], ["project", "Could someone help us plan the spring launch?"], ["worker"]):
        # One 3 s ping, not Celery's retries (which would hit this hang guard; no timing is asserted).
        result = run(command, {"IMPLEMENTOR_BROKER_URL": url}, tmp_path, timeout=300)
        assert result.returncode == 2, (command, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert "IMPLEMENTOR_BROKER_URL" in lines[0] and "127.0.0.1" in lines[0], lines[0]
        assert "hunter2" not in result.stderr and "***" in lines[0]  # the password never shown


def test_a_wrong_model_path_is_named_before_any_job_is_queued(tiny_env: dict[str, str], tmp_path: Path) -> None:
    result = run(["introduce"], {**tiny_env, "IMPLEMENTOR_WRITER_MODEL": str(tmp_path / "no-such-writer")}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line, no traceback
    assert "IMPLEMENTOR_WRITER_MODEL" in result.stderr and "no-such-writer" in result.stderr
    assert "starting" not in result.stderr  # refused before the embedded worker started
