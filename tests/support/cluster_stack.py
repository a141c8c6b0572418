"""The fault suite's cluster (tests/faults/test_cluster.py): the bot as several processes on one PostgreSQL store.

    a PostgreSQL server (tests/support/postgres_server.py), its store migrated by `implementor migrate`
    a redis-server and one Celery worker, as in `fault_stack.Stack`
    N bot processes (tests/support/run_bot.py), process i serving shard i of N (IMPLEMENTOR_SHARD_IDS=i)
    the fake Discord, routing each server's events to the connection of its shard

Servers are made up per shard by Discord's formula, so that a test knows which process serves which; the
job book is read straight from PostgreSQL, to see who holds which job.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
from fake_discord import FakeDiscord
from fault_stack import LAUNCHER, REQUEST, Stack, wait_for

LEASE_S = 5.0  # the shortest lease the settings allow: takeovers within seconds


def guild_on(shard: int, n: int, shards: int) -> str:
    """The n-th made-up server on `shard`: a snowflake beyond 32 bits, (id >> 22) % shards == shard."""
    return str(((shards * (10**9 + n) + shard) << 22) | 1)


class Cluster(Stack):
    def __init__(self, tmp: Path, fake: FakeDiscord, models: dict[str, str], store_url: str, bots: int = 3,
                 **settings: str) -> None:
        super().__init__(tmp, fake, models, IMPLEMENTOR_STORE_URL=store_url, IMPLEMENTOR_SHARD_COUNT=str(bots),
                         IMPLEMENTOR_CLAIM_LEASE_S=str(LEASE_S), **settings)
        self.store_url, self.shards = store_url, bots
        self.bots: dict[int, subprocess.Popen[bytes]] = {}

    def migrate(self) -> str:
        """`implementor migrate`, as the compose one-shot or the Kubernetes Job runs it; its one line."""
        done = subprocess.run([sys.executable, "-m", "implementor", "migrate"], env={**os.environ, **self.env},
                              cwd=self.tmp, capture_output=True, text=True, timeout=120, check=True)
        return done.stdout.strip()

    def launch(self, shard: int) -> None:
        env = {**os.environ, **self.env, "IMPLEMENTOR_BROKER_URL": self.url, "IMPLEMENTOR_SHARD_IDS": str(shard)}
        with (self.tmp / f"bot{shard}.log").open("ab") as log:
            self.bots[shard] = subprocess.Popen(
                [sys.executable, str(LAUNCHER), self.fake.api_base, self.fake.gateway_url], env=env, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.tmp)

    async def start_bots(self, shards: list[int], timeout: float = 90) -> None:
        """Start bot processes at once; returns when each has identified (one bucket: 5 s apart)."""
        identified = self.fake.identified
        for shard in shards:
            self.launch(shard)
        await wait_for(lambda: self.fake.identified >= identified + len(shards), timeout,
                       f"{len(shards)} bots to connect")
        await asyncio.sleep(1.0)  # their READY handlers

    def owner(self, shard: int) -> str:
        """How the bot process of `shard` signs its claims in the job book (`implementor bot`'s owner)."""
        return f"{socket.gethostname()}/shards-{shard}"

    def kill(self, shard: int) -> None:
        bot = self.bots.pop(shard)
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=10)

    def stop(self) -> None:
        for shard in list(self.bots):
            self.kill(shard)
        super().stop()

    def book(self) -> list[dict[str, Any]]:
        """Every job in the book: id, state, holder, slot."""
        with psycopg.connect(self.store_url) as db:
            rows = db.execute("SELECT job_id, status, claimed_by, slot_open, guild_id FROM jobs ORDER BY seq"
                              ).fetchall()
        return [{"job_id": r[0], "status": r[1], "claimed_by": r[2], "slot_open": r[3], "guild_id": r[4]}
                for r in rows]

    def results_for(self, job_id: str) -> list[dict[str, Any]]:
        """A job's posted results, in whichever server's channel it was asked."""
        return [m for channel in list(self.fake.channels) for m in self.fake.results(channel)
                if FakeDiscord.job_of(m) == job_id]

    async def ask_in(self, guild_id: str, channel_id: str, user_id: int) -> str:
        return await self.fake.interaction("project", [{"name": "description", "type": 3, "value": REQUEST}],
                                           user_id=str(user_id), guild_id=guild_id, channel_id=channel_id)
