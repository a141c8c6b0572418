"""The shared database's schema, as numbered migrations, each applied once and recorded.

Every table of the store is made here and nowhere else: the roster (`colleagues`) and the bot's notes
(`meta`), each server's settings (`servers`), the book of jobs (`jobs`), members' ratings (`feedback`)
consent (`learning_*`) and choices among a reply's drafts (`preferences`). The modules that query them
(`database.py`, `servers.py`, `jobbook.py`, `consent.py`, `preferences.py`) never create or alter a table.

`migrate(db)` brings a database to the newest version: it reads `schema_version` (one row per
migration applied: its number, what it did, when), and applies the missing ones in order, all inside
one transaction (`connection.py`): SQLite's write lock (`BEGIN IMMEDIATE`), or on PostgreSQL a transaction
that first takes an advisory lock (DDL is transactional there). Two processes migrating at once therefore
never both migrate: the second waits for the lock, then finds the work done and applies nothing. A
migration that fails leaves the database as it was (the transaction rolls back) and raises.

Who migrates: a SQLite store is migrated by whoever opens it (the embedded default, the CLI and the tests
need nothing run first). A PostgreSQL store is migrated once, by `implementor migrate` (a compose one-shot
or a Kubernetes Job); the bot, the learner and beat open it only at the newest version (`require_latest`).
The tables are written in SQLite's words; `Database.ddl` says them in PostgreSQL's (BIGINT ids, BYTEA,
DOUBLE PRECISION times, identity keys).

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

from implementor.contracts.errors import DataError
from implementor.store.connection import Database

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


async def _baseline(db: Database) -> None:
    for statement in filter(str.strip, TABLES.split(";")):
        await db.execute(db.ddl(statement))
    for table, columns in ADDED.items():
        have = await db.columns(table)
        for name, kind in columns.items():
            if name not in have:
                await db.execute(db.ddl(f"ALTER TABLE {table} ADD COLUMN {name} {kind}"))
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


async def _members_in_control(db: Database) -> None:
    """Each server's own settings and current colleague; a colleague can retire; a face keeps its model's size."""
    await db.execute(db.ddl(SERVERS))
    await db.execute(db.ddl("ALTER TABLE colleagues ADD COLUMN retired_at REAL"))
    await db.execute(db.ddl("ALTER TABLE colleagues ADD COLUMN face_px INTEGER"))


async def _regenerate_in_place(db: Database) -> None:
    """A Regenerate's job names the job whose answer it replaces, in that answer's own message."""
    await db.execute("ALTER TABLE jobs ADD COLUMN replaces_job_id TEXT")


LEASES = """
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until REAL NOT NULL
)
"""
# SQLite numbers a new job through its rowid (a trigger copies it); PostgreSQL through an identity column.
SQLITE_SEQ = ("UPDATE jobs SET seq = rowid WHERE seq IS NULL",
              "CREATE TRIGGER IF NOT EXISTS jobs_seq AFTER INSERT ON jobs WHEN NEW.seq IS NULL "
              "BEGIN UPDATE jobs SET seq = NEW.rowid WHERE rowid = NEW.rowid; END")


async def _several_processes(db: Database) -> None:
    """Jobs in the order they came (`seq`), claimed by one process at a time for a while (`claimed_by` until
    `lease_until`), what their status message last showed and when (any process may edit it next); named
    leases for duties one process does at a time (the command sync, identifying with Discord)."""
    if db.dialect == "postgresql":
        await db.execute("ALTER TABLE jobs ADD COLUMN seq BIGINT GENERATED BY DEFAULT AS IDENTITY")
    else:
        await db.execute("ALTER TABLE jobs ADD COLUMN seq INTEGER")
        for statement in SQLITE_SEQ:
            await db.execute(statement)
    await db.execute("ALTER TABLE jobs ADD COLUMN claimed_by TEXT")
    await db.execute(db.ddl("ALTER TABLE jobs ADD COLUMN lease_until REAL"))
    await db.execute("ALTER TABLE jobs ADD COLUMN status_key TEXT")  # what the status message last said, and when
    await db.execute(db.ddl("ALTER TABLE jobs ADD COLUMN status_at REAL"))
    await db.execute("CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, seq)")
    await db.execute(db.ddl(LEASES))


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


async def _conversations(db: Database) -> None:
    """A follow-up names the job it follows and the message it answers; a member's choice among a reply's
    drafts is kept as a preference (the draft shown below the one chosen)."""
    await db.execute("ALTER TABLE jobs ADD COLUMN parent_job_id TEXT")
    await db.execute(db.ddl("ALTER TABLE jobs ADD COLUMN reply_to_id INTEGER"))
    await db.execute(db.ddl(PREFERENCES))


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Database], Awaitable[None]]


MIGRATIONS = (
    Migration(1, "the baseline: every table, adopting a store made before migrations were numbered", _baseline),
    Migration(2, "servers' own settings and current colleague; retired colleagues; a face's model size",
              _members_in_control),
    Migration(3, "a Regenerate's job names the answer it replaces", _regenerate_in_place),
    Migration(4, "jobs in order of arrival, claimed under leases; named leases (several bot processes)",
              _several_processes),
    Migration(5, "follow-ups name the job they follow and the message they answer; draft preferences",
              _conversations),
)
LATEST = MIGRATIONS[-1].version
MIGRATION_LOCK = 0x1D_5A_7E  # PostgreSQL's advisory lock number for migrating (any number no other code takes)


async def version(db: Database) -> int:
    """The newest migration applied to this database; 0 for one that has none (new, or made before them)."""
    if not await db.columns("schema_version"):
        return 0
    async with db.execute("SELECT MAX(version) FROM schema_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _too_new(current: int) -> DataError:
    return DataError(f"this store is at schema version {current}, newer than this program knows ({LATEST}): "
                     "run the newer version, or restore a backup")


async def migrate(db: Database) -> list[int]:
    """Apply every migration this database lacks, in order, in one transaction; returns their numbers."""
    async with db.transaction(lock=MIGRATION_LOCK) as tx:  # the lock first: no other process migrates meanwhile
        await tx.execute(tx.ddl(VERSIONS))
        current = await version(tx)
        if current > LATEST:
            raise _too_new(current)
        applied = []
        for migration in MIGRATIONS[current:]:
            await migration.apply(tx)
            await tx.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                             (migration.version, migration.description, time.time()))
            applied.append(migration.version)
    return applied


async def require_latest(db: Database) -> None:
    """Open a PostgreSQL store only at the newest schema (it is migrated once, by `implementor migrate`); a
    SQLite store is migrated here, by whoever opens it."""
    if db.dialect == "sqlite":
        await migrate(db)
        return
    current = await version(db)
    if current > LATEST:
        raise _too_new(current)
    if current < LATEST:
        raise DataError(f"the store {db.url} is at schema version {current}, this program needs {LATEST}: "
                        "run `implementor migrate`")
