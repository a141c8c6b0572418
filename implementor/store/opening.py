"""Opening the store by its address: which engine, at which schema, with every failure one clear line.

    open_database(url)        a connection (SQLite) or a pool (PostgreSQL), as the address says (`connection.py`)
    open_store_database(url)  the same, at the newest schema: a SQLite file is migrated on the spot, a
                              PostgreSQL store only checked (`migrations.require_latest`)
    migrate_store(url)        `implementor migrate`: the migrations a store lacks, applied once

The bot's `Store` (`database.py`) and the learner's `LearningStore` (`consent.py`) both open their store here.
"""

from __future__ import annotations

from pathlib import Path

from implementor.contracts.errors import DataError
from implementor.store import sqlite
from implementor.store.connection import Database, dialect_of, sqlite_path
from implementor.store.migrations import migrate, require_latest


async def open_database(url: str | Path) -> Database:
    """Connect to the store at `url`: `postgresql://...` (psycopg 3's pool), else a SQLite file (a path, or
    `sqlite:///path`); migrating is the caller's to do."""
    url = str(url)
    if dialect_of(url) == "postgresql":
        from implementor.store import postgres  # psycopg only where PostgreSQL is used

        return await postgres.open_pool(url)
    return await sqlite.open_file(sqlite_path(url))


async def _connect(url: str) -> Database:
    if dialect_of(url) == "sqlite" and sqlite_path(url) != ":memory:":
        path = Path(sqlite_path(url)).expanduser()
        if path.is_dir():
            raise DataError(f"cannot open the bot's store {path}: it is a directory, not a SQLite file")
        path.parent.mkdir(parents=True, exist_ok=True)
        url = str(path)
    try:
        return await open_database(url)
    except DataError:
        raise
    except Exception as exc:  # the engine's own error (a file that is no database, a refused connection)
        raise DataError(f"cannot open the bot's store {url if dialect_of(url) == 'sqlite' else 'at its URL'}: "
                        f"{exc}") from None


async def open_store_database(url: Path | str) -> Database:
    """Connect to the store at `url` (a SQLite path or URL, or a PostgreSQL URL), brought to the newest schema
    (SQLite) or checked to be there (PostgreSQL); every failure is one `DataError` line."""
    db = await _connect(str(url))
    try:
        await require_latest(db)
    except BaseException as exc:
        await db.close()  # a store that cannot be used leaves no connection (and its thread) behind
        if isinstance(exc, DataError) or not isinstance(exc, Exception):
            raise
        raise DataError(f"cannot open the bot's store {db.url}: {exc}") from None
    return db


async def migrate_store(url: Path | str) -> list[int]:
    """`implementor migrate`: bring the store to the newest schema; returns the migrations applied (none: it was
    up to date)."""
    db = await _connect(str(url))
    try:
        return await migrate(db)
    except DataError:
        raise
    except Exception as exc:  # the engine refused a step: the transaction rolled back, the store is as it was
        raise DataError(f"could not migrate the store {db.url}: {str(exc).strip().splitlines()[0]}") from None
    finally:
        await db.close()
