"""The two processes of tests/learning/test_sqlite.py: the bot and the learner committing to one SQLite file.

They live here, importable by name (tests/support is on the path), because a spawned process imports its
target's module afresh, and a test module's importlib name need not be importable there."""

from __future__ import annotations

import asyncio
import multiprocessing.synchronize

from implementor.store.consent import LearningStore
from implementor.store.database import Store

WRITES = 150


def bot_writes(path: str, start: multiprocessing.synchronize.Event) -> None:
    async def main() -> None:
        store = await Store(path).open()
        start.wait()
        for i in range(WRITES):
            await store.rate(f"job-{i}", 1, "a request", "a reply", 5, guild_id=1)  # one commit each
        await store.close()

    asyncio.run(main())


def learner_writes(path: str, start: multiprocessing.synchronize.Event) -> None:
    async def main() -> None:
        learner = await LearningStore.open(path)
        start.wait()
        for i in range(WRITES):
            await learner.set_channel(7, 1000 + i, True, by=42)  # one commit each
        await learner.close()

    asyncio.run(main())
