"""The bot's durable memory, in SQLite or PostgreSQL (`connection.py`): each server's roster, members' ratings,
and the book of jobs.

- roster: the colleagues a server has hired, newest last; `/introduce` shows the newest;
- feedback: (request, reply, rating, who, when, server), one rating per member per result; `/ratings`
  reads one server's, and all are exported as the JSONL that `implementor train quality` reads (the
  learner reads a posted reply's ratings through `replies.posted_reply`);
- learning (`store.learning`, see `consent.py`): where a server lets its colleague learn, and who
  opted out;
- jobs (`store.jobs`, see `jobbook.py`, the table's only writer): every accepted job, where its result
  goes and how far it got, so that a result is posted once even if a worker delivers it twice or the
  bot restarts;
- preferences (`store.preferences`, see `preferences.py`): members' choices among a reply's drafts;
- meta: the bot's own notes, such as the hash of the command tree it last registered (`command_sync.py`).

Every table is made by `migrations.py`. Opening a SQLite store migrates it first (the migrations the file
lacks are applied once, in order, and recorded); a PostgreSQL store is migrated by `implementor migrate`, and
opening one that is behind is refused with that advice. aiosqlite runs SQLite in a thread and psycopg talks
to PostgreSQL asynchronously, so the event loop never waits on the disk. The learner writes the same store
from its own process. On PostgreSQL any number of bot processes share it: each claims the jobs it works
on under a lease (`jobbook.py`), and duties for one process at a time run under a named lease (`leases.py`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from implementor.contracts.errors import DataError
from implementor.store.connection import Database
from implementor.store.consent import LearningStore
from implementor.store.jobbook import Claims, JobBook
from implementor.store.leases import Leases
from implementor.store.opening import open_store_database
from implementor.store.preferences import Preferences
from implementor.store.servers import Servers


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
    id: int = 0  # the roster's own id, which a project job records as the colleague who answers
    retired: bool = False  # off the team: answers no request, still listed by /team
    face_px: int | None = None  # the face model's own size: under 64 px the face is shown as a thumbnail


class Store:
    def __init__(self, path: Path | str, claims: Claims | None = None) -> None:
        self.path = str(path)  # a SQLite file (or sqlite:/// URL) or a postgresql:// URL
        self.claims = claims  # this bot process in the job book: its name, shards and lease (None: the only one)
        self._db: Database | None = None
        self._jobs: JobBook | None = None

    async def open(self) -> Store:
        self._db = await open_store_database(self.path)
        self._jobs = JobBook(self._db, self.claims)
        return self

    @property
    def jobs(self) -> JobBook:
        if self._jobs is None:
            raise RuntimeError("the store is not open; call `await store.open()` first")
        return self._jobs

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def servers(self) -> Servers:
        """Each server's own settings and current colleague: a table in this same file."""
        return Servers(self.db)

    @property
    def leases(self) -> Leases:
        """Named leases for duties one bot process at a time does (`leases.py`), held as this process."""
        return Leases(self.db, self.claims.owner if self.claims else "")

    @property
    def preferences(self) -> Preferences:
        """Members' choices among a reply's drafts (the draft menu): a table in this same store."""
        return Preferences(self.db)

    @property
    def learning(self) -> LearningStore:
        """Consent to learn (channels, opt-outs, harvest cursors): tables in this same file."""
        return LearningStore(self.db)

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("the store is not open; call `await store.open()` first")
        return self._db

    # --- roster ---------------------------------------------------------------------------------

    async def hire(self, guild_id: int, name: str, title: str, seed: int, cv: str, png: bytes,
                   hired_by: int, job_id: str | None = None, face_px: int | None = None) -> Colleague:
        """Add a colleague to a server's roster, who then answers its requests (the server switches to the new
        hire); a job's hire happens once, however often it is posted."""
        added = await self.db.execute(
            "INSERT INTO colleagues (guild_id, name, title, seed, cv, png, hired_by, hired_at, job_id, face_px) "
            "VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING id",
            (guild_id, name, title, seed, cv, png, hired_by, time.time(), job_id, face_px))
        if added.rows:
            await self.servers.change(guild_id, hired_by, colleague_id=int(added.rows[0][0]))
        await self.db.commit()
        current = await self.colleague(guild_id)
        assert current is not None
        return current

    async def roster(self, guild_id: int) -> list[Colleague]:
        """Everyone the server has hired, first hire first, the retired ones too."""
        async with self.db.execute(
            "SELECT guild_id, name, title, seed, cv, png, hired_by, id, retired_at, face_px FROM colleagues "
            "WHERE guild_id = ? ORDER BY id", (guild_id,)) as cursor:
            rows = await cursor.fetchall()
        return [Colleague(guild_id=r[0], name=r[1], title=r[2], seed=r[3], cv=r[4], png=r[5], hired_by=r[6],
                          position=i, id=r[7], retired=r[8] is not None, face_px=r[9]) for i, r in enumerate(rows, 1)]

    async def colleague(self, guild_id: int, colleague_id: int | None = None) -> Colleague | None:
        """The colleague who answers the server's requests: the one it switched to, else its newest still on the
        team; or the one with that roster id (a job records who answered it)."""
        team = await self.roster(guild_id)
        if colleague_id is not None:
            return next((c for c in team if c.id == colleague_id), None)
        chosen = (await self.servers.get(guild_id)).colleague_id
        active = [c for c in team if not c.retired]
        return next((c for c in active if c.id == chosen), active[-1] if active else None)

    async def hired_by(self, job_id: str) -> Colleague | None:
        """The colleague an introduction hired, if it did."""
        async with self.db.execute("SELECT guild_id, id FROM colleagues WHERE job_id = ?", (job_id,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else await self.colleague(int(row[0]), int(row[1]))

    async def retire(self, guild_id: int, colleague_id: int, by: int) -> Colleague | None:
        """Take a colleague off the team (they stay on the roster); returns who answers now, if anyone."""
        await self.db.execute("UPDATE colleagues SET retired_at = ? WHERE guild_id = ? AND id = ? "
                              "AND retired_at IS NULL", (time.time(), guild_id, colleague_id))
        if (await self.servers.get(guild_id)).colleague_id == colleague_id:
            await self.servers.change(guild_id, by, colleague_id=None)
        await self.db.commit()
        return await self.colleague(guild_id)

    async def switch(self, guild_id: int, colleague_id: int, by: int) -> Colleague:
        """Make a colleague on the team the one who answers (one who retired comes back)."""
        await self.db.execute("UPDATE colleagues SET retired_at = NULL WHERE guild_id = ? AND id = ?",
                              (guild_id, colleague_id))
        await self.servers.change(guild_id, by, colleague_id=colleague_id)
        current = await self.colleague(guild_id)
        assert current is not None and current.id == colleague_id
        return current

    # --- the bot's own notes (the hash of the last synced command tree) ---------------------------

    async def get_meta(self, key: str) -> str | None:
        async with self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else str(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        await self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                              "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
        await self.db.commit()

    # --- feedback -------------------------------------------------------------------------------

    async def rate(self, job_id: str, user_id: int, request: str, reply: str, rating: int, *,
                   guild_id: int | None) -> None:
        """Record a member's rating of a result posted in `guild_id` (None: a DM)."""
        if not 1 <= rating <= 5:
            raise DataError(f"a rating is 1 to 5, got {rating}")
        await self.db.execute(
            "INSERT INTO feedback (job_id, user_id, request, reply, rating, rated_at, guild_id) VALUES (?,?,?,?,?,?,?) "
            "ON CONFLICT (job_id, user_id) DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at",
            (job_id, user_id, request, reply, rating, time.time(), guild_id))
        await self.db.commit()

    async def feedback(self) -> list[dict[str, Any]]:
        """Every server's ratings, for training; what a server may see is `server_feedback`."""
        return await self._feedback("", ())

    async def server_feedback(self, guild_id: int) -> list[dict[str, Any]]:
        """The ratings given to results posted in one server, and no other's."""
        return await self._feedback("WHERE guild_id = ?", (guild_id,))

    async def _feedback(self, where: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        async with self.db.execute(
            f"SELECT request, reply, rating, user_id, rated_at, job_id FROM feedback {where} ORDER BY rated_at",
            args) as cursor:
            rows = await cursor.fetchall()
        return [{"request": r[0], "reply": r[1], "rating": r[2], "who": str(r[3]), "when": r[4], "job_id": r[5]}
                for r in rows]

    async def forget_feedback(self, user_id: int) -> int:
        """Delete every rating (and choice among drafts) a member gave, and every one given to a reply to their
        request (`/learn optout`); returns how many went."""
        given = await self.db.execute("DELETE FROM feedback WHERE user_id = ?", (user_id,))
        forgotten = given.rowcount
        for job_id in await self.jobs.asked_by(user_id):  # the job book's to say which jobs were theirs
            forgotten += (await self.db.execute("DELETE FROM feedback WHERE job_id = ?", (job_id,))).rowcount
        await self.db.commit()
        return forgotten + await self.preferences.forget(user_id, await self.jobs.asked_by(user_id))

    async def export_feedback(self, path: Path) -> int:
        """Write the ratings as JSONL for `implementor train quality --feedback`; return how many."""
        rows = await self.feedback()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        return len(rows)
