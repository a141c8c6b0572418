"""The schema as numbered migrations: each applied once and recorded, never twice by two processes at once,
all or nothing, and a store newer than the program refused with the reason."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite
import pytest

from implementor.contracts.errors import DataError
from implementor.store import migrations, sqlite
from implementor.store.database import Store
from implementor.store.migrations import LATEST, MIGRATIONS, Migration, migrate, version


async def tables(db: aiosqlite.Connection) -> set[str]:
    async with db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cursor:
        return {row[0] for row in await cursor.fetchall()}


async def test_a_new_store_gets_every_migration_once_and_records_it(tmp_path: Path) -> None:
    db = await sqlite.connect(tmp_path / "s.sqlite3")
    try:
        assert await version(db) == 0
        assert await migrate(db) == [m.version for m in MIGRATIONS]
        assert await migrate(db) == []  # opened again: nothing left to do
        assert await version(db) == LATEST
        assert {"colleagues", "meta", "jobs", "feedback", "learning_channels", "learning_log", "learning_optouts",
                "learning_cursors", "schema_version"} <= await tables(db)
        async with db.execute("SELECT version, description FROM schema_version") as cursor:
            rows = await cursor.fetchall()
        assert [r[0] for r in rows] == [m.version for m in MIGRATIONS] and all(r[1] for r in rows)
    finally:
        await db.close()


async def test_processes_opening_one_file_at_once_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    connections = [await sqlite.connect(path) for _ in range(4)]
    try:
        applied = await asyncio.gather(*(migrate(db) for db in connections))
        assert sorted(map(len, applied)) == [0, 0, 0, len(MIGRATIONS)]
        async with connections[0].execute("SELECT COUNT(*) FROM schema_version") as cursor:
            assert (await cursor.fetchone())[0] == len(MIGRATIONS)  # type: ignore[index]
    finally:
        for db in connections:
            await db.close()


async def test_a_failing_migration_leaves_the_store_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    async def half_done(db: aiosqlite.Connection) -> None:
        await db.execute("CREATE TABLE half (x INTEGER)")
        raise aiosqlite.OperationalError("disk full, say")

    db = await sqlite.connect(tmp_path / "s.sqlite3")
    try:
        await migrate(db)
        monkeypatch.setattr(migrations, "MIGRATIONS", (*MIGRATIONS, Migration(LATEST + 1, "half", half_done)))
        monkeypatch.setattr(migrations, "LATEST", LATEST + 1)
        with pytest.raises(aiosqlite.OperationalError):
            await migrations.migrate(db)
        assert "half" not in await tables(db) and await version(db) == LATEST
    finally:
        await db.close()


async def test_a_store_from_a_newer_version_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    db = await sqlite.connect(path)
    await migrate(db)
    await db.execute("INSERT INTO schema_version VALUES (?, 'from the future', 0)", (LATEST + 5,))
    await db.commit()
    await db.close()
    with pytest.raises(DataError, match=f"schema version {LATEST + 5}, newer than this program knows"):
        await Store(path).open()
