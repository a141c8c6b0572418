"""Two beats as real processes on a real redis-server, the leader SIGKILLed: the standby leads within the
lease's timeout (plus one try), and the learner gets one learning cycle per interval across the takeover."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from fault_stack import record
from local_stack import RedisServer

from implementor.workers.beat import RENEWALS
from implementor.workers.names import LEARN_QUEUE

pytestmark = pytest.mark.slow
INTERVAL_S, LEASE_S = 4.0, 3.0  # a cycle every 4 s; a standby takes over 3 s after the leader's last renewal


def _start_beat(url: str, folder: Path) -> subprocess.Popen[bytes]:
    folder.mkdir()
    env = {**os.environ, "IMPLEMENTOR_BROKER_URL": url, "IMPLEMENTOR_LEARNING_DIR": str(folder),
           "IMPLEMENTOR_LEARN_INTERVAL_H": str(INTERVAL_S / 3600), "IMPLEMENTOR_BEAT_LOCK_TIMEOUT_S": str(LEASE_S)}
    log = (folder / "beat.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "implementor", "beat"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, cwd=folder)


def _role(folder: Path) -> str | None:
    try:
        return str(json.loads((folder / "beat.health.json").read_text())["role"])
    except (OSError, ValueError, KeyError):
        return None


def _wait_role(folder: Path, role: str, timeout: float) -> float:
    start = time.monotonic()
    while _role(folder) != role:
        assert time.monotonic() - start < timeout, f"no {role} in {folder} after {timeout} s"
        time.sleep(0.05)
    return time.monotonic()


def _watch(client: redis.Redis, sends: list[float], until: float) -> None:
    """Note when each cycle reaches the learn queue (nothing consumes it here)."""
    while time.monotonic() < until:
        for _ in range(int(client.llen(LEARN_QUEUE)) - len(sends)):
            sends.append(time.monotonic())
        time.sleep(0.05)


def test_the_standby_beat_takes_over_and_sends_one_cycle_per_interval(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    (tmp_path / "redis").mkdir()
    server.start()
    beats: list[subprocess.Popen[bytes]] = []
    try:
        client = redis.Redis.from_url(server.url)
        beats.append(_start_beat(server.url, tmp_path / "a"))
        _wait_role(tmp_path / "a", "leader", 120)
        beats.append(_start_beat(server.url, tmp_path / "b"))
        _wait_role(tmp_path / "b", "standby", 120)
        sends: list[float] = []
        _watch(client, sends, time.monotonic() + 2.5 * INTERVAL_S)
        before = len(sends)
        killed = time.monotonic()
        beats[0].send_signal(signal.SIGKILL)
        beats[0].wait()
        took_over = _wait_role(tmp_path / "b", "leader", 3 * LEASE_S) - killed
        _watch(client, sends, time.monotonic() + 3 * INTERVAL_S)
    finally:
        for beat in beats:
            beat.kill()
            beat.wait()
        server.stop()
    gaps = [b - a for a, b in zip(sends, sends[1:], strict=False)]
    record("two beats, the leader SIGKILLed", interval_s=INTERVAL_S, lease_s=LEASE_S,
           takeover_s=round(took_over, 2), cycles_before_kill=before, cycles_after_kill=len(sends) - before,
           gaps_s=[round(g, 2) for g in gaps])
    print(f"takeover {took_over:.2f} s (lease {LEASE_S} s), cycles {len(sends)}, gaps {[round(g, 2) for g in gaps]}")
    assert took_over <= LEASE_S + LEASE_S / RENEWALS + 0.5
    assert before >= 2 and len(sends) - before >= 2
    assert min(gaps) >= INTERVAL_S - 0.5  # never twice in an interval, even at the takeover
    assert max(gaps) <= INTERVAL_S + LEASE_S + LEASE_S / RENEWALS + 1.0  # and none lost to it
