"""Each server's own settings, changed with `/settings` (Manage Server): the cooldown between two requests of a
member, who may hire a colleague, whether replies explore, and which colleague answers. A setting a server
never changed is None, and the bot's settings (`IMPLEMENTOR_*`) stand in for it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from implementor.store.connection import Database

Hire = Literal["managers", "everyone"]  # who may hire: members with Manage Server, or any member
HIRE_CHOICES: tuple[Hire, ...] = ("managers", "everyone")


@dataclass(frozen=True)
class ServerSettings:
    guild_id: int
    colleague_id: int | None = None  # who answers; None: the newest colleague still on the team
    cooldown_s: int | None = None  # None: IMPLEMENTOR_USER_COOLDOWN_S
    hire: Hire | None = None  # None: managers
    explore: bool | None = None  # whether replies sometimes post another realistic draft; None: the workers' share

    @property
    def who_may_hire(self) -> Hire:
        return self.hire or "managers"


class Servers:
    """Reads and writes the `servers` table (made by `migrations.py`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, guild_id: int) -> ServerSettings:
        async with self.db.execute("SELECT colleague_id, cooldown_s, hire, explore FROM servers WHERE guild_id = ?",
                                   (guild_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return ServerSettings(guild_id)
        hire = row[2] if row[2] in HIRE_CHOICES else None
        return ServerSettings(guild_id, row[0], row[1], hire, None if row[3] is None else bool(row[3]))

    async def change(self, guild_id: int, by: int, **values: int | str | bool | None) -> ServerSettings:
        """Set some of a server's settings (`colleague_id`, `cooldown_s`, `hire`, `explore`); the others keep
        theirs."""
        unknown = set(values) - {"colleague_id", "cooldown_s", "hire", "explore"}
        assert not unknown, unknown
        current = await self.get(guild_id)
        merged = {"colleague_id": current.colleague_id, "cooldown_s": current.cooldown_s, "hire": current.hire,
                  "explore": current.explore, **values}
        await self.db.execute(
            "INSERT INTO servers (guild_id, colleague_id, cooldown_s, hire, explore, changed_by, changed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET colleague_id = excluded.colleague_id, "
            "cooldown_s = excluded.cooldown_s, hire = excluded.hire, explore = excluded.explore, "
            "changed_by = excluded.changed_by, changed_at = excluded.changed_at",
            (guild_id, merged["colleague_id"], merged["cooldown_s"], merged["hire"],
             None if merged["explore"] is None else int(bool(merged["explore"])), by, time.time()))
        await self.db.commit()
        return await self.get(guild_id)
