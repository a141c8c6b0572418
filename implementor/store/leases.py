"""Named leases: a duty that one bot process at a time does (the command sync), held for a while by its owner.

`take(name, seconds)` is one statement, an upsert guarded by the lease's expiry, so that of several
processes asking at once exactly one gets it: SQLite runs one writer at a time, and PostgreSQL's
`ON CONFLICT ... DO UPDATE ... WHERE` locks the row it decides on. A holder that dies keeps the lease only
until it runs out; one that finishes gives it back (`give_back`) for the next to take at once.
"""

from __future__ import annotations

import time

from implementor.store.connection import Database


class Leases:
    """Reads and writes the `leases` table (made by `migrations.py`) for one owner (a bot process)."""

    def __init__(self, db: Database, owner: str) -> None:
        self.db, self.owner = db, owner

    async def take(self, name: str, seconds: float) -> bool:
        """Hold the lease `name` for `seconds` (again, if this owner holds it); False if another does."""
        now = time.time()
        taken = await self.db.execute(
            "INSERT INTO leases (name, owner, until) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "owner = excluded.owner, until = excluded.until WHERE leases.until < ? OR leases.owner = excluded.owner "
            "RETURNING owner", (name, self.owner, now + seconds, now))
        await self.db.commit()
        return bool(taken.rows)

    async def give_back(self, name: str) -> None:
        await self.db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, self.owner))
        await self.db.commit()

    async def holder(self, name: str) -> str | None:
        """Who holds the lease now (None: nobody, or it ran out)."""
        rows = await self.db.execute("SELECT owner FROM leases WHERE name = ? AND until >= ?", (name, time.time()))
        return str(rows.rows[0][0]) if rows.rows else None
