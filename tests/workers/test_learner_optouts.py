"""`/learn optout`'s removal, done by a real learner process: the bot recorded the opt-out and asked for
`implementor.forget` while the learner was down; once it is up, it removes the rows and records that it did."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from local_stack import RedisServer
from pydantic import SecretStr

from implementor.config.settings import Settings
from implementor.store.consent import LearningStore
from implementor.store.datasets import TEXTS, harvest_dir, read_rows
from implementor.workers.client import stack_client

pytestmark = pytest.mark.slow  # a real stack: redis-server and a learner process
MEMBER, OTHER = 42, 43


async def _opt_out(store_path: Path) -> None:
    learning = await LearningStore.open(store_path)
    try:
        await learning.opt_out(MEMBER)
    finally:
        await learning.close()


async def _log(store_path: Path) -> list[str]:
    learning = await LearningStore.open(store_path)
    try:
        return [row["action"] for row in await learning.log() if row["user_id"] == MEMBER]
    finally:
        await learning.close()


def test_a_learner_that_was_down_removes_the_opted_out_rows_when_it_comes_back(server: RedisServer,
                                                                               tmp_path: Path) -> None:
    store_path, learning_dir = tmp_path / "bot.sqlite3", tmp_path / "learning"
    harvest_dir(learning_dir).mkdir(parents=True)
    rows = [{"message_id": 1, "author": MEMBER, "context_author": None},
            {"message_id": 2, "author": OTHER, "context_author": None}]
    (harvest_dir(learning_dir) / TEXTS).write_text("".join(json.dumps(r) + "\n" for r in rows))
    asyncio.run(_opt_out(store_path))
    client = stack_client(Settings(broker_url=SecretStr(server.url)))
    try:
        client.request_forget()  # as the bot does; nobody serves the learn queue yet
    finally:
        client.close()
    env = {**os.environ, "IMPLEMENTOR_BROKER_URL": server.url, "IMPLEMENTOR_BOT_STORE_PATH": str(store_path),
           "IMPLEMENTOR_LEARNING_DIR": str(learning_dir)}
    with (tmp_path / "learner.log").open("wb") as log:
        learner = subprocess.Popen([sys.executable, "-m", "implementor", "worker", "--queues", "learn",
                                    "--concurrency", "1"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=tmp_path, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while [r["message_id"] for r in read_rows(harvest_dir(learning_dir) / TEXTS)] != [2]:
            assert learner.poll() is None and time.monotonic() < deadline, (tmp_path / "learner.log").read_text()
            time.sleep(0.2)
    finally:
        learner.send_signal(signal.SIGTERM)
        try:
            learner.wait(timeout=30)
        except subprocess.TimeoutExpired:
            learner.kill()
            learner.wait()
    assert asyncio.run(_log(store_path))[0] == "forgotten"
