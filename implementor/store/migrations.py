"""The shared database's schema, as numbered migrations, each applied once and recorded.

Every table of the store is made here and nowhere else: the roster (`colleagues`) and the bot's notes
(`meta`), each server's settings (`servers`), the book of jobs (`jobs`), members' ratings (`feedback`)
consent (`learning_*`) and choices among a reply's drafts (`preferences`). The modules that query them
(`database.py`, `servers.py`, `jobbook.py`, `consent.py`, `preferences.py`) never create or alter a table.

`migrate(db)` brings a database to the newest version: it reads `schema_version` (one row per
migration applied: its number, what it did, when), and applies the missing ones in order, all inside
one write transaction (`BEGIN IMMEDIATE`). Two processes opening the same file at once therefore never
both migrate: the second waits for SQLite's write lock, then finds the work done and applies nothing.
A migration that fails leaves the database as it was (the transaction rolls back) and raises.

Migration 1 is the baseline. It also adopts a store made before migrations were numbered, whatever
the version that made it: the tables are made if missing, then each column added since a table was
first made is added if it is missing, and older ratings take their server from their job. Later
migrations are plain steps on top of it; a new one is appended to `MIGRATIONS`, never edited once
released.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiosqlite

from implementor.contracts.errors import DataError

TABLES = """
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
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
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
CREATE TABLE IF NOT EXISTS learning_channels (
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    changed_by INTEGER NOT NULL,
    changed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS learning_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER,
    channel_id INTEGER,
    user_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS learning_optouts (
    user_id INTEGER PRIMARY KEY,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS learning_cursors (
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    last_message_id INTEGER NOT NULL,
    harvested_at REAL NOT NULL,
    counts TEXT NOT NULL
);
"""
# Columns added, before migrations were numbered, since each table was first made.
ADDED = {
    "colleagues": {"job_id": "TEXT"},
    "jobs": {"job": "TEXT", "token": "TEXT", "token_expires": "REAL", "status_message_id": "INTEGER",
             "status_text": "TEXT", "slot_open": "INTEGER NOT NULL DEFAULT 0", "colleague_id": "INTEGER",
             "extras_sent": "INTEGER NOT NULL DEFAULT 0", "lost_since": "REAL", "error": "TEXT"},
    "feedback": {"guild_id": "INTEGER"},
}
INDEXES = "CREATE UNIQUE INDEX IF NOT EXISTS colleagues_by_job ON colleagues (job_id) WHERE job_id IS NOT NULL;"
# Ratings given before they carried their server take it from their job; a rating whose job is gone
# keeps NULL, so it is shown in no server (it still trains the quality head).
BACKFILL = ("UPDATE feedback SET guild_id = (SELECT guild_id FROM jobs WHERE jobs.job_id = feedback.job_id) "
            "WHERE guild_id IS NULL")
VERSIONS = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at REAL NOT NULL
)
"""


async def _baseline(db: aiosqlite.Connection) -> None:
    for statement in filter(str.strip, TABLES.split(";")):
        await db.execute(statement)
    for table, columns in ADDED.items():
        async with db.execute(f"PRAGMA table_info({table})") as cursor:
            have = {row[1] for row in await cursor.fetchall()}
        for name, kind in columns.items():
            if name not in have:
                await db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    await db.execute(INDEXES)
    await db.execute(BACKFILL)


SERVERS = """
CREATE TABLE IF NOT EXISTS servers (
    guild_id INTEGER PRIMARY KEY,
    colleague_id INTEGER,
    cooldown_s INTEGER,
    hire TEXT,
    explore INTEGER,
    changed_by INTEGER,
    changed_at REAL
)
"""


async def _members_in_control(db: aiosqlite.Connection) -> None:
    """Each server's own settings and current colleague; a colleague can retire; a face keeps its model's size."""
    await db.execute(SERVERS)
    await db.execute("ALTER TABLE colleagues ADD COLUMN retired_at REAL")
    await db.execute("ALTER TABLE colleagues ADD COLUMN face_px INTEGER")


async def _regenerate_in_place(db: aiosqlite.Connection) -> None:
    """A Regenerate's job names the job whose answer it replaces, in that answer's own message."""
    await db.execute("ALTER TABLE jobs ADD COLUMN replaces_job_id TEXT")


PREFERENCES = """
CREATE TABLE IF NOT EXISTS preferences (
    job_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    guild_id INTEGER,
    request TEXT NOT NULL,
    shown TEXT NOT NULL,
    chosen TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (job_id, at)
)
"""


async def _conversations(db: aiosqlite.Connection) -> None:
    """A follow-up names the job it follows and the message it answers; a member's choice among a reply's
    drafts is kept as a preference (the draft shown below the one chosen)."""
    await db.execute("ALTER TABLE jobs ADD COLUMN parent_job_id TEXT")
    await db.execute("ALTER TABLE jobs ADD COLUMN reply_to_id INTEGER")
    await db.execute(PREFERENCES)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[aiosqlite.Connection], Awaitable[None]]


MIGRATIONS = (
    Migration(1, "the baseline: every table, adopting a store made before migrations were numbered", _baseline),
    Migration(2, "servers' own settings and current colleague; retired colleagues; a face's model size",
              _members_in_control),
    Migration(3, "a Regenerate's job names the answer it replaces", _regenerate_in_place),
    # The conversations' step is numbered 4 here: `migrate` applies MIGRATIONS by position, so numbers must
    # run without a gap. The PostgreSQL work takes a step of its own; whichever merges second renumbers.
    Migration(4, "follow-ups name the job they follow and the message they answer; draft preferences",
              _conversations),
)
LATEST = MIGRATIONS[-1].version


async def version(db: aiosqlite.Connection) -> int:
    """The newest migration applied to this database; 0 for one that has none (new, or made before them)."""
    async with db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'") as cur:
        if await cur.fetchone() is None:
            return 0
    async with db.execute("SELECT MAX(version) FROM schema_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


async def migrate(db: aiosqlite.Connection) -> list[int]:
    """Apply every migration this database lacks, in order, in one transaction; returns their numbers."""
    if db.in_transaction:
        await db.commit()
    await db.execute("BEGIN IMMEDIATE")  # the write lock first: no other process migrates meanwhile
    try:
        await db.execute(VERSIONS)
        current = await version(db)
        if current > LATEST:
            raise DataError(f"this store is at schema version {current}, newer than this program knows "
                               f"({LATEST}): run the newer version, or restore a backup")
        applied = []
        for migration in MIGRATIONS[current:]:
            await migration.apply(db)
            await db.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                             (migration.version, migration.description, time.time()))
            applied.append(migration.version)
        await db.commit()
    except BaseException:
        await db.rollback()
        raise
    return applied
