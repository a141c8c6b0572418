"""The schema as numbered migrations, on SQLite and PostgreSQL alike: each applied once and recorded, never
twice by two processes at once, all or nothing, a store newer than the program refused with the reason, and
a PostgreSQL store behind the program refused until `implementor migrate` ran."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from postgres_server import PostgresServer
from typer.testing import CliRunner

from implementor.cli.main import app
from implementor.contracts.errors import DataError
from implementor.contracts.jobs import ProjectJob
from implementor.store import migrations
from implementor.store.connection import Database
from implementor.store.database import Store
from implementor.store.jobbook import JobBook
from implementor.store.migrations import LATEST, MIGRATIONS, Migration, migrate, version
from implementor.store.opening import migrate_store, open_database

TABLES = {"colleagues", "meta", "jobs", "feedback", "learning_channels", "learning_log", "learning_optouts",
          "learning_cursors", "schema_version", "servers", "leases"}


async def tables(db: Database) -> set[str]:
    return {name for name in TABLES | {"half"} if await db.columns(name)}


async def test_a_new_store_gets_every_migration_once_and_records_it(store_url: str) -> None:
    db = await open_database(store_url)
    try:
        assert await version(db) == 0
        assert await migrate(db) == [m.version for m in MIGRATIONS]
        assert await migrate(db) == []  # opened again: nothing left to do
        assert await version(db) == LATEST
        assert await tables(db) == TABLES
        async with db.execute("SELECT version, description FROM schema_version ORDER BY version") as cursor:
            rows = await cursor.fetchall()
        assert [r[0] for r in rows] == [m.version for m in MIGRATIONS] and all(r[1] for r in rows)
    finally:
        await db.close()


async def test_processes_migrating_one_store_at_once_migrate_it_once(store_url: str) -> None:
    connections = [await open_database(store_url) for _ in range(4)]
    try:
        applied = await asyncio.gather(*(migrate(db) for db in connections))
        assert sorted(map(len, applied)) == [0, 0, 0, len(MIGRATIONS)]
        async with connections[0].execute("SELECT COUNT(*) FROM schema_version") as cursor:
            assert (await cursor.fetchone())[0] == len(MIGRATIONS)  # type: ignore[index]
    finally:
        for db in connections:
            await db.close()


async def test_a_failing_migration_leaves_the_store_as_it_was(store_url: str, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    async def half_done(db: Database) -> None:
        await db.execute("CREATE TABLE half (x INTEGER)")
        await db.execute("SELECT no_such_column FROM half")  # the engine refuses: the step fails half done

    db = await open_database(store_url)
    try:
        await migrate(db)
        monkeypatch.setattr(migrations, "MIGRATIONS", (*MIGRATIONS, Migration(LATEST + 1, "half", half_done)))
        monkeypatch.setattr(migrations, "LATEST", LATEST + 1)
        with pytest.raises(Exception, match="no_such_column"):
            await migrations.migrate(db)
        assert "half" not in await tables(db) and await version(db) == LATEST
    finally:
        await db.close()


async def test_a_store_from_a_newer_version_is_refused_with_the_reason(store_url: str) -> None:
    db = await open_database(store_url)
    await migrate(db)
    await db.execute("INSERT INTO schema_version VALUES (?, 'from the future', 0)", (LATEST + 5,))
    await db.commit()
    await db.close()
    with pytest.raises(DataError, match=f"schema version {LATEST + 5}, newer than this program knows"):
        await Store(store_url).open()


def test_postgres_is_migrated_by_the_command_not_by_whoever_opens_it(postgres_server: PostgresServer,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    store_url = postgres_server.fresh()

    async def open_and_close() -> None:
        await (await Store(store_url).open()).close()

    with pytest.raises(DataError, match=r"schema version 0, this program needs \d+: run `implementor migrate`"):
        asyncio.run(open_and_close())
    monkeypatch.setenv("IMPLEMENTOR_STORE_URL", store_url)
    first = CliRunner().invoke(app, ["migrate"])
    assert first.exit_code == 0 and f"now at schema version {LATEST}" in first.output, first.output
    again = CliRunner().invoke(app, ["migrate"])
    assert again.exit_code == 0 and "up to date" in again.output, again.output
    asyncio.run(open_and_close())
    assert asyncio.run(migrate_store(store_url)) == []


def test_a_store_out_of_reach_is_one_line_without_the_password(tmp_path: Path) -> None:
    from local_stack import free_port

    env = {**os.environ, "IMPLEMENTOR_STORE_URL": f"postgresql://bot:hunter2@127.0.0.1:{free_port()}/bot"}
    done = subprocess.run([sys.executable, "-m", "implementor", "migrate"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("error: cannot reach the PostgreSQL store"), done.stderr
    assert done.stderr.count("\n") == 1 and "hunter2" not in done.stderr + done.stdout


async def test_jobs_booked_before_migration_4_keep_their_order_and_new_ones_follow(
        store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = await open_database(store_url)
    try:
        with monkeypatch.context() as before:  # a store as release 3 left it, with two open jobs
            before.setattr(migrations, "MIGRATIONS", MIGRATIONS[:3])
            before.setattr(migrations, "LATEST", 3)
            await migrations.migrate(db)
        for job_id in ("older", "newer"):
            await db.execute("INSERT INTO jobs (job_id, kind, channel_id, user_id, status, created_at, slot_open) "
                             "VALUES (?, 'project', 5, 6, 'queued', 0, 1)", (job_id,))
        await db.commit()
        assert await migrate(db) == [4, 5]
        book = JobBook(db)
        await book.add(ProjectJob(request="Could you help us plan the launch?"), 7, 5, 6)
        assert [r.job_id for r in await book.open_jobs()][:2] == ["older", "newer"]
        assert [await book.position(j) for j in ("older", "newer")] == [1, 2]
        assert len({r.job_id for r in await book.claim()}) == 3  # unclaimed before claims: this shard's
    finally:
        await db.close()
