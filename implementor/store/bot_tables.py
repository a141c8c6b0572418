"""The bot's two tables that the learner reads too, `jobs` and `feedback`: their schema, the stored form
of a result, and the one query the learner makes on them.

The bot writes both: the job book (`implementor/store/jobbook.py`) is the only writer of `jobs` and keeps every
query of the bot's on it; the bot's store (`implementor/store/database.py`) writes and reads `feedback` (the rating
buttons, `/ratings`, `/learn optout`). The learner needs one thing from them, for the harvest: the
colleague's reply posted as a given message, with members' ratings of it (`posted_reply`).

Why here: the learner may not import the bot (imports point down, `tests/test_architecture.py`), and
a query belongs with the definition of the table it reads, so that renaming a column renames it for
every reader at once. So both tables are defined here, in the torch-free part of `learning` that the
bot imports too: the bot's store creates and migrates them from here (`ensure`), the job book types
a stored result with `read_result`, and the learner asks `posted_reply`. No other module names them
in SQL (`tests/test_architecture.py` checks who touches which table).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import aiosqlite

from implementor.contracts.jobs import IntroduceResult, ProjectResult, Result

log = logging.getLogger(__name__)

SCHEMA = """
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
# Columns added since the tables were first made: a store made before them gains them when it is opened.
ADDED = {
    "jobs": {"job": "TEXT", "token": "TEXT", "token_expires": "REAL", "status_message_id": "INTEGER",
             "status_text": "TEXT", "slot_open": "INTEGER NOT NULL DEFAULT 0", "colleague_id": "INTEGER",
             "extras_sent": "INTEGER NOT NULL DEFAULT 0", "lost_since": "REAL", "error": "TEXT"},
    "feedback": {"guild_id": "INTEGER"},
}
# Ratings given before they carried their server take it from their job; a rating whose job is gone
# keeps NULL, so it is shown in no server (it still trains the quality head).
BACKFILL = ("UPDATE feedback SET guild_id = (SELECT guild_id FROM jobs WHERE jobs.job_id = feedback.job_id) "
            "WHERE guild_id IS NULL")
_RESULTS: dict[str, type[IntroduceResult] | type[ProjectResult]] = {"introduce": IntroduceResult,
                                                                    "project": ProjectResult}


async def ensure(db: aiosqlite.Connection) -> None:
    """Create the two tables, or bring a store made by an older version up to date (the caller commits)."""
    await db.executescript(SCHEMA)
    for table, columns in ADDED.items():
        async with db.execute(f"PRAGMA table_info({table})") as cursor:
            have = {row[1] for row in await cursor.fetchall()}
        for name, kind in columns.items():
            if name not in have:
                await db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    await db.execute(BACKFILL)


def read_result(job_id: str, kind: str, stored: str | None) -> Result | None:
    """A job's result as the book stored it, typed by the job's kind; None where there is none, or it
    cannot be read (said in the log). One stored before an introduction's `persona` was renamed
    `profile` reads as the same result under the new name."""
    if not stored:
        return None
    try:
        data = json.loads(stored)
        if "persona" in data and "profile" not in data:
            data["profile"] = data.pop("persona")
        return _RESULTS[kind].model_validate(data)
    except (ValueError, KeyError) as exc:  # bad JSON, a shape no version wrote, an unknown kind
        log.error("job %s: its stored result cannot be read (%s)", job_id, exc)
        return None


@dataclass(frozen=True)
class PostedReply:
    """A project job whose result the bot posted, as the learner reads it."""

    job_id: str
    request: str
    asker: int  # the member who asked
    result: ProjectResult
    ratings: dict[int, int] = field(default_factory=dict)  # member -> their rating, 1 to 5 (the buttons)


async def posted_reply(db: aiosqlite.Connection, message_id: int) -> PostedReply | None:
    """The project job whose result is the message `message_id`, with every member's rating of it; None
    if no project job with a request and a result was posted as that message (or the bot never made its tables)."""
    try:
        async with db.execute("SELECT job_id, request, result, user_id FROM jobs WHERE message_id = ? "
                              "AND kind = 'project'", (message_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None or not row[1]:
            return None
        async with db.execute("SELECT user_id, rating FROM feedback WHERE job_id = ?", (row[0],)) as cursor:
            ratings = {int(user): int(rating) for user, rating in await cursor.fetchall()}
    except aiosqlite.OperationalError:  # a store the bot never used: no tables yet
        return None
    result = read_result(row[0], "project", row[2])
    if not isinstance(result, ProjectResult):
        return None
    return PostedReply(row[0], row[1], int(row[3]), result, ratings)
