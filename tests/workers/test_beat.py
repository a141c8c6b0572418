"""Beat's heartbeat (implementor/workers/beat.py) and its healthcheck (`implementor health beat`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from implementor.cli.main import app as cli
from implementor.config.settings import Settings
from implementor.workers.app import create_app
from implementor.workers.beat import HeartbeatScheduler


def test_every_tick_writes_the_heartbeat(tmp_path: Path) -> None:
    settings = Settings(learning_dir=tmp_path)
    scheduler = HeartbeatScheduler(create_app(settings), schedule_filename=str(tmp_path / "schedule"), lazy=True)
    scheduler.setup_schedule()
    scheduler.tick()
    assert time.time() - json.loads(settings.beat_health_path.read_text())["time"] < 5


@pytest.mark.parametrize("age_s, healthy", [(10, True), (3600, False), (None, False)])
def test_health_beat_reads_the_heartbeat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, age_s: float | None,
                                         healthy: bool) -> None:
    monkeypatch.setenv("IMPLEMENTOR_LEARNING_DIR", str(tmp_path))
    monkeypatch.delenv("IMPLEMENTOR_BROKER_URL", raising=False)
    if age_s is not None:
        Settings(learning_dir=tmp_path).beat_health_path.write_text(json.dumps({"time": time.time() - age_s}))
    result = CliRunner().invoke(cli, ["health", "beat"])
    assert result.exit_code == (0 if healthy else 1), result.output
    assert result.output.startswith("healthy" if healthy else "unhealthy")


def test_implementor_beat_runs_this_scheduler(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import implementor.workers.worker

    started: list[list[str]] = []
    monkeypatch.setenv("IMPLEMENTOR_BROKER_URL", "redis://localhost:1/0")
    monkeypatch.setenv("IMPLEMENTOR_LEARNING_DIR", str(tmp_path))
    monkeypatch.setattr("implementor.workers.client.check_redis", lambda url: None)
    monkeypatch.setattr(implementor.workers.worker.app, "start", lambda argv: started.append(argv))
    assert CliRunner().invoke(cli, ["beat"]).exit_code == 0
    [argv] = started
    assert argv[argv.index("--scheduler") + 1] == "implementor.workers.beat:HeartbeatScheduler"
    assert int(argv[argv.index("--max-interval") + 1]) * 3 < 300  # several ticks inside health's max age
