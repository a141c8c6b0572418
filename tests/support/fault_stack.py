"""The fault suite's stack (tests/faults/): real processes, killed and restarted as an operator's machines would be.

    a redis-server with an append-only file (fsync on every write, as compose runs it)
    a Celery worker process (`celery -A implementor.workers.worker worker`, the tiny test models)
    the bot as its own process (tests/support/run_bot.py: `implementor bot` pointed at a fake Discord)
    the fake Discord, in the test's own event loop: members' commands in, the channel as they read it

Time limits are short so that recovery bounds are short: a 30 s hard limit (a batch of 4 jobs with the
tiny models takes a second or two, even on a busy 2-core machine) makes the visibility timeout 61 s (it
must exceed twice the limit), so a dead worker's jobs come back within 71 s.
`use_default_limits()` drops those overrides again, for a test that must hold with the settings an
operator gets (the dead-worker bound: a 300 s time limit, so a 660 s visibility timeout).
Each test records how long recovery took in `FIGURES`; the suite prints them at the end, and
writes them as JSON to $IMPLEMENTOR_FAULTS_REPORT if that is set.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from fake_discord import FakeDiscord
from local_stack import RedisServer, kill_process_tree, start_worker

TOKEN = "fake." + "x" * 60
LAUNCHER = Path(__file__).parents[1] / "support" / "run_bot.py"
REQUEST = "Could someone help us plan a marketing strategy for the spring launch?"
TIME_LIMIT_S, VISIBILITY_S, RESTORE_S = 30, 61, 10
FIGURES: dict[str, dict[str, Any]] = {}


def record(case: str, **figures: Any) -> None:
    FIGURES[case] = figures


def summarise(terminalreporter: Any) -> None:
    """For the suite's `pytest_terminal_summary`: the figures, and the JSON report if asked for."""
    if not FIGURES:
        return
    terminalreporter.write_sep("-", "fault suite: recovery")
    for case, figures in FIGURES.items():
        terminalreporter.write_line(f"{case}: {json.dumps(figures)}")
    report = os.environ.get("IMPLEMENTOR_FAULTS_REPORT")
    if report:
        Path(report).write_text(json.dumps(FIGURES, indent=2) + "\n", encoding="utf-8")


async def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        await asyncio.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Stack:
    def __init__(self, tmp: Path, fake: FakeDiscord, models: dict[str, str], **settings: str) -> None:
        self.tmp, self.fake = tmp, fake
        (tmp / "redis").mkdir(parents=True, exist_ok=True)
        self.redis = RedisServer(tmp / "redis", appendonly=True)
        self.env = {**models, "IMPLEMENTOR_DEVICE": "cpu", "IMPLEMENTOR_DISCORD_TOKEN": TOKEN,
                    "IMPLEMENTOR_BOT_STORE_PATH": str(tmp / "bot.sqlite3"), "IMPLEMENTOR_RECONCILE_INTERVAL_S": "0.25",
                    "IMPLEMENTOR_TASK_TIME_LIMIT_S": str(TIME_LIMIT_S), "IMPLEMENTOR_TASK_SOFT_TIME_LIMIT_S": "25",
                    "IMPLEMENTOR_BATCH_MAX_SIZE": "4",
                    "IMPLEMENTOR_VISIBILITY_TIMEOUT_S": str(VISIBILITY_S), "IMPLEMENTOR_RESULT_TTL_S": "900",
                    "IMPLEMENTOR_USER_COOLDOWN_S": "0", "IMPLEMENTOR_BATCH_WINDOW_S": "0.2",
                    "IMPLEMENTOR_LOG_LEVEL": "INFO", **settings}
        self.worker: subprocess.Popen[bytes] | None = None
        self.bot: subprocess.Popen[bytes] | None = None
        self.workers_started = 0

    def use_default_limits(self) -> None:
        """Run the processes started from now on with the default time limits, visibility timeout,
        batching and reconcile interval (the members' cooldown stays off: many members ask at once)."""
        for name in ("TASK_TIME_LIMIT_S", "TASK_SOFT_TIME_LIMIT_S", "VISIBILITY_TIMEOUT_S", "BATCH_MAX_SIZE",
                     "BATCH_WINDOW_S", "RECONCILE_INTERVAL_S"):
            self.env.pop(f"IMPLEMENTOR_{name}")

    @property
    def url(self) -> str:
        return self.redis.url

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.redis.port, decode_responses=True)

    # --- processes ----------------------------------------------------------------------------------

    def start_worker(self) -> None:
        self.workers_started += 1
        env = {**self.env, "IMPLEMENTOR_BROKER_URL": self.url}
        self.worker = start_worker(self.url, env, self.tmp / "worker.log", name=f"fault{self.workers_started}@%h")

    def kill_worker(self) -> None:
        if self.worker is not None:
            kill_process_tree(self.worker)
            self.worker = None

    async def start_bot(self) -> None:
        identified = self.fake.identified
        env = {**os.environ, **self.env, "IMPLEMENTOR_BROKER_URL": self.url}
        with (self.tmp / "bot.log").open("ab") as log:
            self.bot = subprocess.Popen([sys.executable, str(LAUNCHER), self.fake.api_base, self.fake.gateway_url],
                                        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp)
        await wait_for(lambda: self.fake.identified > identified, 60, "the bot to connect")
        await asyncio.sleep(0.5)  # its READY handlers

    def kill_bot(self) -> None:
        if self.bot is not None:
            self.bot.send_signal(signal.SIGKILL)
            self.bot.wait(timeout=10)
            self.bot = None

    async def term_bot(self, timeout: float = 30) -> tuple[float, int]:
        """SIGTERM, as `docker compose stop` sends it; returns how long the bot took to exit, and its code.

        It waits on the event loop, not in `Popen.wait`: the fake Discord shares this loop, and a bot
        closing its gateway waits for Discord's answer."""
        assert self.bot is not None
        bot, started = self.bot, time.monotonic()
        bot.send_signal(signal.SIGTERM)
        await wait_for(lambda: bot.poll() is not None, timeout, "the bot to exit", every=0.02)
        self.bot = None
        return time.monotonic() - started, int(bot.returncode)

    def restart_redis(self, down_s: float = 2.0) -> float:
        """Stop Redis, keep it down for `down_s`, start it again on the same port and data; returns when up."""
        self.redis.stop()
        time.sleep(down_s)
        self.redis.start()
        return time.monotonic()

    def stop(self) -> None:
        self.kill_bot()
        if self.worker is not None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_process_tree(self.worker)
        self.redis.stop()

    # --- members, and the channel as they read it ----------------------------------------------------

    async def ask(self, user_id: int, text: str = REQUEST, pause: float = 0.0) -> str:
        token = await self.fake.interaction("project", [{"name": "description", "type": 3, "value": text}],
                                            user_id=str(user_id))
        if pause:
            await asyncio.sleep(pause)
        return token

    def job_of(self, token: str) -> str | None:
        """The job an interaction started, read off the Cancel button of its status message."""
        original = self.fake.interactions.get(token, {}).get("original")
        message = self.fake.find(original["id"]) if original else None
        return FakeDiscord.job_of(message) if message else None

    def results_for(self, job_id: str) -> list[dict[str, Any]]:
        return [m for m in self.fake.results() if FakeDiscord.job_of(m) == job_id]

    def refused(self, token: str) -> bool:
        """The interaction was answered privately (an ephemeral first response)."""
        return any(r.path.endswith(f"/{token}/callback") and r.json and (r.json.get("data", {}).get("flags", 0) & 64)
                   for r in self.fake.requests)

    async def answered_once(self, job_ids: list[str], timeout: float) -> float:
        """Wait until every job has its result posted; returns the seconds it took. Fails on any double post."""
        started = time.monotonic()
        await wait_for(lambda: all(self.results_for(j) for j in job_ids), timeout, f"{len(job_ids)} answers", 0.25)
        await asyncio.sleep(1.5)  # a late duplicate would show up here
        doubles = {j: len(self.results_for(j)) for j in job_ids if len(self.results_for(j)) != 1}
        assert not doubles, f"posted more than once: {doubles}"
        return time.monotonic() - started

    def on_broker(self, job_id: str) -> bool:
        """The broker has the job: queued, taken by a worker, or with a state or result."""
        client = self.client()
        held = client.lrange("gpu", 0, -1) + client.hvals("unacked")
        return any(job_id in message for message in held) or bool(client.exists(f"celery-task-meta-{job_id}"))

    def finished(self, job_id: str) -> bool:
        meta = self.client().get(f"celery-task-meta-{job_id}")
        return meta is not None and json.loads(meta).get("status") == "SUCCESS"

    def slots_in_flight(self) -> int:
        return int(self.client().zcard("implementor:limits:inflight"))
