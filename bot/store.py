"""The bot's durable memory, in SQLite: each server's roster, members' ratings, and a job ledger.

- roster: the colleagues a server has hired, newest last; `/introduce` shows the newest;
- feedback: (request, reply, rating, who, when), one rating per member per result, exported as the
  JSONL that `implementor train quality` reads;
- jobs: every job the bot queued, where its result goes, and whether it has been posted, so a
  result is posted once even if a worker delivers it twice or the bot restarts mid-job.

aiosqlite runs SQLite in a thread, so the event loop never waits on the disk.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from contracts.errors import DataError

SCHEMA = """
CREATE TABLE IF NOT EXISTS colleagues (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    seed INTEGER NOT NULL,
    cv TEXT NOT NULL,
    png BLOB NOT NULL,
    hired_by INTEGER NOT NULL,
    hired_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS colleagues_by_guild ON colleagues (guild_id, id);
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    guild_id INTEGER,
    channel_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    request TEXT,
    status TEXT NOT NULL,
    result TEXT,
    message_id INTEGER,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS feedback (
    job_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    request TEXT NOT NULL,
    reply TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    rated_at REAL NOT NULL,
    PRIMARY KEY (job_id, user_id)
);
"""


@dataclass(frozen=True)
class Colleague:
    guild_id: int
    name: str
    title: str
    seed: int
    cv: str
    png: bytes  # the face, kept so that showing a colleague again needs no worker
    hired_by: int
    position: int  # 1 for the first hire in the server


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    kind: str
    guild_id: int | None
    channel_id: int
    user_id: int
    request: str | None
    status: str  # queued, done, posted, cancelled, failed, deleted
    result: dict[str, Any] | None
    message_id: int | None
    created_at: float
    finished_at: float | None


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> Store:
        if self.path != ":memory:":
            path = Path(self.path).expanduser()
            if path.is_dir():
                raise DataError(f"cannot open the bot's store {path}: it is a directory, not a SQLite file")
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = await aiosqlite.connect(self.path)
            await self._db.executescript(SCHEMA)
            await self._db.commit()
        except aiosqlite.Error as exc:
            raise DataError(f"cannot open the bot's store {self.path}: {exc}") from None
        return self

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store is not open; call `await store.open()` first")
        return self._db

    # --- roster ---------------------------------------------------------------------------------

    async def hire(self, guild_id: int, name: str, title: str, seed: int, cv: str, png: bytes,
                   hired_by: int) -> Colleague:
        await self.db.execute(
            "INSERT INTO colleagues (guild_id, name, title, seed, cv, png, hired_by, hired_at) "
            "VALUES (?,?,?,?,?,?,?,?)", (guild_id, name, title, seed, cv, png, hired_by, time.time()))
        await self.db.commit()
        current = await self.colleague(guild_id)
        assert current is not None
        return current

    async def roster(self, guild_id: int) -> list[Colleague]:
        async with self.db.execute(
            "SELECT guild_id, name, title, seed, cv, png, hired_by FROM colleagues WHERE guild_id = ? ORDER BY id",
            (guild_id,)) as cursor:
            rows = await cursor.fetchall()
        return [Colleague(guild_id=r[0], name=r[1], title=r[2], seed=r[3], cv=r[4], png=r[5], hired_by=r[6], position=i)
                for i, r in enumerate(rows, 1)]

    async def colleague(self, guild_id: int) -> Colleague | None:
        """The server's newest colleague, who answers its requests."""
        team = await self.roster(guild_id)
        return team[-1] if team else None

    # --- jobs -----------------------------------------------------------------------------------

    async def add_job(self, job_id: str, kind: str, guild_id: int | None, channel_id: int, user_id: int,
                      request: str | None) -> None:
        await self.db.execute(
            "INSERT INTO jobs (job_id, kind, guild_id, channel_id, user_id, request, status, created_at) "
            "VALUES (?,?,?,?,?,?,'queued',?)", (job_id, kind, guild_id, channel_id, user_id, request, time.time()))
        await self.db.commit()

    async def job(self, job_id: str) -> JobRecord | None:
        async with self.db.execute(
            "SELECT job_id, kind, guild_id, channel_id, user_id, request, status, result, message_id, created_at, "
            "finished_at FROM jobs WHERE job_id = ?", (job_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        values[7] = json.loads(values[7]) if values[7] else None
        return JobRecord(*values)

    async def finish_job(self, job_id: str, status: str, result: dict[str, Any] | None) -> None:
        await self.db.execute("UPDATE jobs SET status = ?, result = ?, finished_at = ? WHERE job_id = ?",
                              (status, json.dumps(result) if result is not None else None, time.time(), job_id))
        await self.db.commit()

    async def mark_posted(self, job_id: str, message_id: int) -> bool:
        """Record where a result was posted; False if it had been posted already (post it once)."""
        cursor = await self.db.execute(
            "UPDATE jobs SET status = 'posted', message_id = ? WHERE job_id = ? AND status != 'posted'",
            (message_id, job_id))
        await self.db.commit()
        return cursor.rowcount == 1

    async def set_status(self, job_id: str, status: str) -> None:
        await self.db.execute("UPDATE jobs SET status = ? WHERE job_id = ?", (status, job_id))
        await self.db.commit()

    async def recent_durations(self, limit: int = 20) -> list[float]:
        async with self.db.execute(
            "SELECT finished_at - created_at FROM jobs WHERE finished_at IS NOT NULL ORDER BY finished_at DESC "
            "LIMIT ?", (limit,)) as cursor:
            return [float(row[0]) for row in await cursor.fetchall()]

    # --- feedback -------------------------------------------------------------------------------

    async def rate(self, job_id: str, user_id: int, request: str, reply: str, rating: int) -> None:
        if not 1 <= rating <= 5:
            raise DataError(f"a rating is 1 to 5, got {rating}")
        await self.db.execute(
            "INSERT INTO feedback (job_id, user_id, request, reply, rating, rated_at) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT (job_id, user_id) DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at",
            (job_id, user_id, request, reply, rating, time.time()))
        await self.db.commit()

    async def feedback(self) -> list[dict[str, Any]]:
        async with self.db.execute(
            "SELECT request, reply, rating, user_id, rated_at, job_id FROM feedback ORDER BY rated_at") as cursor:
            rows = await cursor.fetchall()
        return [{"request": r[0], "reply": r[1], "rating": r[2], "who": str(r[3]), "when": r[4], "job_id": r[5]}
                for r in rows]

    async def export_feedback(self, path: Path) -> int:
        """Write the ratings as JSONL for `implementor train quality --feedback`; return how many."""
        rows = await self.feedback()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        return len(rows)
