"""Consent, kept durably: which channels a server lets its colleague learn from, who opted out, and
how far each channel's history has been read. Every change is logged with who made it and when.

The tables live in the bot's store (the same SQLite file or PostgreSQL database, `IMPLEMENTOR_STORE_URL`),
so the bot (`/learn`) and the harvest (`implementor harvest`, or the learner's task) read one truth.
Nothing is read from a channel unless an admin enabled it; a member who opts out is never read again,
and their rows leave every harvested set: the bot records the opt-out, the learner removes the rows
(`implementor.learning.optouts`) and records that it did (`forgotten`, in the log).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from implementor.store.connection import Database
from implementor.store.opening import open_store_database


@dataclass(frozen=True)
class Channel:
    channel_id: int
    guild_id: int
    enabled: bool
    changed_by: int
    changed_at: float
    last_message_id: int | None = None
    harvested_at: float | None = None
    counts: dict[str, Any] | None = None  # the last harvest's: read, kept, dropped by reason


class LearningStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, url: Path | str) -> LearningStore:
        """The learner's own connection to the shared store, at the newest schema (`database.open_store_database`)."""
        return cls(await open_store_database(url))

    async def close(self) -> None:
        await self.db.close()

    async def _log(self, user_id: int, action: str, guild_id: int | None = None, channel_id: int | None = None
                   ) -> None:
        await self.db.execute("INSERT INTO learning_log (guild_id, channel_id, user_id, action, at) VALUES (?,?,?,?,?)",
                              (guild_id, channel_id, user_id, action, time.time()))

    async def set_channel(self, guild_id: int, channel_id: int, enabled: bool, by: int) -> None:
        await self.db.execute(
            "INSERT INTO learning_channels (channel_id, guild_id, enabled, changed_by, changed_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT (channel_id) DO UPDATE SET enabled = excluded.enabled, changed_by = excluded.changed_by, "
            "changed_at = excluded.changed_at", (channel_id, guild_id, int(enabled), by, time.time()))
        await self._log(by, "enable" if enabled else "disable", guild_id, channel_id)
        await self.db.commit()

    async def channels(self, guild_id: int | None = None, enabled_only: bool = False) -> list[Channel]:
        where = ["1 = 1"] + (["c.guild_id = ?"] if guild_id is not None else []) + (["c.enabled = 1"] if enabled_only
                                                                                   else [])
        args = (guild_id,) if guild_id is not None else ()
        async with self.db.execute(
            "SELECT c.channel_id, c.guild_id, c.enabled, c.changed_by, c.changed_at, k.last_message_id, "
            "k.harvested_at, k.counts FROM learning_channels c LEFT JOIN learning_cursors k "
            f"ON k.channel_id = c.channel_id WHERE {' AND '.join(where)} ORDER BY c.channel_id", args) as cursor:
            rows = await cursor.fetchall()
        return [Channel(r[0], r[1], bool(r[2]), r[3], r[4], r[5], r[6], json.loads(r[7]) if r[7] else None)
                for r in rows]

    async def opt_out(self, user_id: int) -> None:
        await self.db.execute("INSERT INTO learning_optouts (user_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                              (user_id, time.time()))
        await self._log(user_id, "opt-out")
        await self.db.commit()

    async def opt_in(self, user_id: int) -> None:
        await self.db.execute("DELETE FROM learning_optouts WHERE user_id = ?", (user_id,))
        await self._log(user_id, "opt-in")
        await self.db.commit()

    async def opted_out(self) -> set[int]:
        async with self.db.execute("SELECT user_id FROM learning_optouts") as cursor:
            return {int(r[0]) for r in await cursor.fetchall()}

    async def optouts_to_apply(self) -> list[int]:
        """Members who opted out and whose rows the learner has not yet removed since (`forgotten`). The bot
        writes `at` of the opt-out, the learner that of the removal: with clocks apart, a removal may be
        done twice (harmless: it finds nothing), never skipped."""
        async with self.db.execute(
                "SELECT o.user_id FROM learning_optouts o WHERE NOT EXISTS (SELECT 1 FROM learning_log l "
                "WHERE l.user_id = o.user_id AND l.action = 'forgotten' AND l.at > o.at) ORDER BY o.at") as cursor:
            return [int(r[0]) for r in await cursor.fetchall()]

    async def forgotten(self, user_id: int) -> None:
        """The learner removed an opted-out member's rows from the harvested sets."""
        await self._log(user_id, "forgotten")
        await self.db.commit()

    async def advance(self, guild_id: int, channel_id: int, last_message_id: int, counts: dict[str, Any]) -> None:
        """Remember where a channel's history was read up to (the next harvest starts after it)."""
        await self.db.execute(
            "INSERT INTO learning_cursors (channel_id, guild_id, last_message_id, harvested_at, counts) "
            "VALUES (?,?,?,?,?) ON CONFLICT (channel_id) DO UPDATE SET last_message_id = excluded.last_message_id, "
            "harvested_at = excluded.harvested_at, counts = excluded.counts",
            (channel_id, guild_id, last_message_id, time.time(), json.dumps(counts)))
        await self.db.commit()

    async def cursors(self) -> dict[int, int]:
        """Every channel's and thread's last read message id."""
        async with self.db.execute("SELECT channel_id, last_message_id FROM learning_cursors") as cursor:
            return {int(r[0]): int(r[1]) for r in await cursor.fetchall()}

    async def log(self, limit: int = 50) -> list[dict[str, Any]]:
        async with self.db.execute("SELECT guild_id, channel_id, user_id, action, at FROM learning_log "
                                   "ORDER BY id DESC LIMIT ?", (limit,)) as cursor:
            rows = await cursor.fetchall()
        return [{"guild_id": r[0], "channel_id": r[1], "user_id": r[2], "action": r[3], "at": r[4]} for r in rows]
