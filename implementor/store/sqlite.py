"""How every process opens the bot's SQLite file: the bot (its store) and the learner (consent, cursors).

The two write the same file from different processes. In SQLite's default rollback journal a reader
blocks a writer, and a writer that finds the file locked fails at once with "database is locked".
Every connection here therefore uses write-ahead logging (readers and one writer at a time never block
each other; a commit is an append to the `-wal` file) and waits up to `BUSY_TIMEOUT_MS` for another
writer's lock instead of failing. `synchronous=NORMAL` is WAL's recommended level: a commit survives
a process crash, and a power loss can lose only the last commits, never corrupt the file.

A WAL file is three files on disk (`x.sqlite3`, `-wal`, `-shm`): copy it with `implementor backup`
(SQLite's online backup), never with `cp` while the bot runs. WAL needs the processes on one host
(shared memory), which is how the stack runs them: the bot and the learner share the `bot-data` volume.
Processes on several hosts share a PostgreSQL store instead (`postgres.py`).

`SqliteDatabase` is this file behind the store's connection interface (`connection.py`): one connection,
shared by a process's coroutines (aiosqlite runs it in a thread, one statement at a time).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from implementor.store.connection import Database, Rows

BUSY_TIMEOUT_MS = 10_000  # longer than any one write of ours takes, far shorter than a healthcheck's patience


async def connect(path: Path | str) -> aiosqlite.Connection:
    """An aiosqlite connection in WAL mode with the busy timeout set."""
    db = await aiosqlite.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if str(path) != ":memory:":  # an in-memory database has no journal to change
            async with db.execute("PRAGMA journal_mode = WAL") as cursor:
                row = await cursor.fetchone()
            if row is None or str(row[0]).lower() != "wal":
                raise sqlite3.OperationalError(f"{path} cannot use write-ahead logging (journal mode {row})")
        await db.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await db.close()
        raise
    return db


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, db: aiosqlite.Connection, path: str) -> None:
        self.db, self.url = db, path

    async def run(self, sql: str, args: tuple[Any, ...]) -> Rows:
        async with self.db.execute(sql, args) as cursor:
            rows: list[Any] = list(await cursor.fetchall())
            return Rows(rows, cursor.rowcount, cursor.lastrowid)

    async def commit(self) -> None:
        await self.db.commit()

    async def rollback(self) -> None:
        await self.db.rollback()

    async def close(self) -> None:
        await self.db.close()

    @asynccontextmanager
    async def transaction(self, lock: int | None = None) -> AsyncIterator[Database]:
        # SQLite's write lock, taken first, keeps every other writer (in any process) out until the commit.
        if self.db.in_transaction:
            await self.db.commit()
        await self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self
            await self.db.commit()
        except BaseException:
            await self.db.rollback()
            raise

    async def columns(self, table: str) -> set[str]:
        async with self.db.execute(f"PRAGMA table_info({table})") as cursor:
            return {str(row[1]) for row in await cursor.fetchall()}


async def open_file(path: str) -> SqliteDatabase:
    """The SQLite file at `path` behind the store's connection interface."""
    return SqliteDatabase(await connect(path), path)


def backup(source: Path, out: Path) -> int:
    """Copy a live store to `out` with SQLite's online backup (consistent, while the bot writes); returns pages."""
    out.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    dst = sqlite3.connect(str(out))
    try:
        src.backup(dst)
        # The copy is one self-contained file, whatever journal the source uses.
        dst.execute("PRAGMA journal_mode = DELETE")
        return int(dst.execute("PRAGMA page_count").fetchone()[0])
    finally:
        dst.close()
        src.close()
