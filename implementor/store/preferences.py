"""Members' choices among a reply's drafts: each swap of the shown draft, kept as a preference pair.

A member who asked (or a moderator) can show another of a posted reply's drafts (the bot's draft
menu). Each swap says "this draft is better than the one shown": one row (the job, who chose, where,
the request, the draft shown before, the draft chosen, when). The learner reads them all as pairwise
labels for the quality head (`learning/retrain.py` says how they are weighed), and `/learn optout`
forgets a member's, as it forgets their ratings.

The `preferences` table is made by `migrations.py`; this module is the only one that names it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from implementor.store.connection import Database


@dataclass(frozen=True)
class Preference:
    job_id: str
    user_id: int
    guild_id: int | None
    request: str
    shown: str  # the draft that was shown: the worse of the two, to the member who chose
    chosen: str  # the draft they chose instead
    at: float

    def row(self) -> dict[str, Any]:
        """As the learner's JSONL keeps it."""
        return {"key": f"{self.job_id}:{self.at}", "job_id": self.job_id, "who": self.user_id,
                "request": self.request, "shown": self.shown, "chosen": self.chosen, "when": self.at}


class Preferences:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, job_id: str, user_id: int, guild_id: int | None, request: str, shown: str,
                     chosen: str) -> Preference:
        """Keep one swap (a draft chosen over the one shown); a swap back is a preference of its own."""
        at = time.time()
        await self.db.execute("INSERT INTO preferences (job_id, user_id, guild_id, request, shown, chosen, at) "
                              "VALUES (?,?,?,?,?,?,?)", (job_id, user_id, guild_id, request, shown, chosen, at))
        await self.db.commit()
        return Preference(job_id, user_id, guild_id, request, shown, chosen, at)

    async def all(self, job_id: str | None = None) -> list[Preference]:
        """Every preference (or one job's), oldest first."""
        where, args = ("WHERE job_id = ?", (job_id,)) if job_id is not None else ("", ())
        async with self.db.execute("SELECT job_id, user_id, guild_id, request, shown, chosen, at FROM preferences "
                                   f"{where} ORDER BY at", args) as cursor:
            return [Preference(str(r[0]), int(r[1]), r[2], str(r[3]), str(r[4]), str(r[5]), float(r[6]))
                    for r in await cursor.fetchall()]

    async def forget(self, user_id: int, jobs: list[str]) -> int:
        """Delete the choices a member made, and those made on replies to their requests (`/learn optout`)."""
        forgotten = (await self.db.execute("DELETE FROM preferences WHERE user_id = ?", (user_id,))).rowcount
        for job_id in jobs:
            forgotten += (await self.db.execute("DELETE FROM preferences WHERE job_id = ?", (job_id,))).rowcount
        await self.db.commit()
        return forgotten
