"""Beat's leader lease and heartbeat (implementor/workers/beat.py) and its healthcheck (`implementor health beat`),
on a real redis-server; two beats as processes, the leader SIGKILLed, are in tests/faults/test_beat.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import redis
from local_stack import RedisServer
from pydantic import SecretStr
from typer.testing import CliRunner

from implementor.cli.main import app as cli
from implementor.config.settings import Settings
from implementor.workers.app import create_app
from implementor.workers.beat import LeaderScheduler


def _beat(server: RedisServer, folder: Path, lock_s: float = 30.0) -> tuple[Settings, LeaderScheduler]:
    settings = Settings(learning_dir=folder, broker_url=SecretStr(server.url), beat_lock_timeout_s=lock_s)
    folder.mkdir(exist_ok=True)
    return settings, LeaderScheduler(create_app(settings), max_interval=60)


def _heartbeat(settings: Settings) -> dict[str, object]:
    return dict(json.loads(settings.beat_health_path.read_text()))


@pytest.fixture(autouse=True)
def _fresh(server: RedisServer) -> None:
    redis.Redis.from_url(server.url).flushdb()


def test_one_beat_leads_the_other_waits_and_takes_over_when_it_stops(server: RedisServer, tmp_path: Path) -> None:
    first_settings, first = _beat(server, tmp_path / "a")
    second_settings, second = _beat(server, tmp_path / "b")
    assert first.tick() <= 30.0 / 5  # a leader renews its lease several times per lease
    second.tick()
    assert (first.leading, second.leading) == (True, False)
    assert _heartbeat(first_settings)["role"] == "leader"
    standby = _heartbeat(second_settings)
    assert standby["role"] == "standby" and standby["leader"] == first.lease.holder
    assert 25 < float(standby["lease_left_s"]) <= 30  # type: ignore[arg-type]
    first.close()  # a clean stop hands the lease over at once
    second.tick()
    assert second.leading and _heartbeat(second_settings)["role"] == "leader"
    second.close()


def test_a_leader_whose_lease_was_taken_steps_down(server: RedisServer, tmp_path: Path) -> None:
    _, beat = _beat(server, tmp_path / "a")
    beat.tick()
    assert beat.leading
    client = redis.Redis.from_url(server.url)
    client.set(beat.lease.key, "another-host:1", px=30_000)  # ours lapsed (a long pause) and another beat took it
    beat.tick()
    assert not beat.leading
    beat.close()
    assert client.get(beat.lease.key) == b"another-host:1"  # a standby's stop leaves the leader's lease alone


def test_the_schedule_is_shared_a_standby_sends_nothing(server: RedisServer, tmp_path: Path) -> None:
    client = redis.Redis.from_url(server.url)
    _, leader = _beat(server, tmp_path / "a")
    _, standby = _beat(server, tmp_path / "b")
    leader.tick()
    [key] = [k for k in client.zrange("implementor:beat::schedule", 0, -1)]
    client.zadd("implementor:beat::schedule", {key: 1})  # due long ago
    client.hset(key, "meta", json.dumps({"last_run_at": {"__type__": "datetime", "year": 2000, "month": 1,
                                                          "day": 1, "hour": 0, "minute": 0, "second": 0,
                                                          "microsecond": 0, "timezone": "UTC"}}))
    standby.tick()
    assert client.llen("learn") == 0
    leader.tick()
    assert client.llen("learn") == 1
    leader.tick()
    standby.tick()
    assert client.llen("learn") == 1  # marked as run in Redis before it was sent: not sent again by anyone
    leader.close()
    standby.close()


def test_a_leader_that_loses_redis_mid_tick_waits_instead_of_crashing(server: RedisServer, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from redbeat.schedulers import RedBeatScheduler

    settings, beat = _beat(server, tmp_path / "a")

    def gone(*args: object, **kwargs: object) -> float:
        raise redis.ConnectionError("Error 111 connecting to redis. Connection refused.")

    monkeypatch.setattr(RedBeatScheduler, "tick", gone)
    assert beat.tick() == beat.try_every_s  # it tries again soon
    assert _heartbeat(settings)["role"] == "leader"  # its lease held; only the schedule could not be read
    beat.close()


@pytest.mark.parametrize("state, healthy, says", [
    ({"age": 10, "role": "leader", "lease_s": 150}, True, "leads"),
    ({"age": 10, "role": "standby", "leader": "beat-0:7", "lease_left_s": 120.0}, True, "standby"),
    ({"age": 3600, "role": "standby"}, False, "ticked 3600 s ago"),
    (None, False, "no heartbeat"),
])
def test_health_beat_reads_the_heartbeat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         state: dict[str, object] | None, healthy: bool, says: str) -> None:
    monkeypatch.setenv("IMPLEMENTOR_LEARNING_DIR", str(tmp_path))
    if state is not None:
        beat = {**state, "time": time.time() - float(state.pop("age"))}  # type: ignore[arg-type]
        Settings(learning_dir=tmp_path).beat_health_path.write_text(json.dumps(beat))
    result = CliRunner().invoke(cli, ["health", "beat"])
    assert result.exit_code == (0 if healthy else 1), result.output
    assert result.output.startswith("healthy" if healthy else "unhealthy") and says in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_implementor_beat_runs_the_leader_scheduler(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import implementor.workers.worker

    started: list[list[str]] = []
    monkeypatch.setenv("IMPLEMENTOR_BROKER_URL", "redis://localhost:1/0")
    monkeypatch.setenv("IMPLEMENTOR_LEARNING_DIR", str(tmp_path))
    monkeypatch.setattr("implementor.workers.client.check_redis", lambda url: None)
    monkeypatch.setattr(implementor.workers.worker.app, "start", lambda argv: started.append(argv))
    assert CliRunner().invoke(cli, ["beat"]).exit_code == 0
    [argv] = started
    assert argv[argv.index("--scheduler") + 1] == "implementor.workers.beat:LeaderScheduler"
    assert "--schedule" not in argv  # the schedule is in Redis: beat needs no volume
    assert int(argv[argv.index("--max-interval") + 1]) * 3 < 300  # several ticks inside health's max age
