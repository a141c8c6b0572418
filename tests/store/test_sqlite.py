"""The bot's SQLite file, shared by the bot and the learner: WAL and a busy timeout on every connection,
both processes writing at once without "database is locked", a reader never holding up a writer, and
`implementor backup` copying it while it is written."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest
from sqlite_writers import WRITES, bot_writes, learner_writes
from typer.testing import CliRunner

from implementor.cli.main import app
from implementor.store.consent import LearningStore
from implementor.store.database import Store
from implementor.store.sqlite import BUSY_TIMEOUT_MS


async def pragmas(db: object) -> tuple[str, int]:
    async with db.execute("PRAGMA journal_mode") as cursor:  # type: ignore[attr-defined]
        mode = (await cursor.fetchone())[0]
    async with db.execute("PRAGMA busy_timeout") as cursor:  # type: ignore[attr-defined]
        timeout = (await cursor.fetchone())[0]
    return mode, timeout


async def test_every_connection_uses_the_write_ahead_log_and_waits_for_a_lock(tmp_path: Path) -> None:
    store = await Store(tmp_path / "bot.sqlite3").open()
    learner = await LearningStore.open(tmp_path / "bot.sqlite3")
    try:
        assert await pragmas(store.db) == ("wal", BUSY_TIMEOUT_MS)
        assert await pragmas(learner.db) == ("wal", BUSY_TIMEOUT_MS)
    finally:
        await learner.close()
        await store.close()


def test_the_bot_and_the_learner_write_the_same_file_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "bot.sqlite3")

    async def create() -> None:
        await (await Store(path).open()).close()

    asyncio.run(create())
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=bot_writes, args=(path, start)),
               context.Process(target=learner_writes, args=(path, start))]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]  # a "database is locked" would have ended one with 1
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == WRITES
        assert db.execute("SELECT COUNT(*) FROM learning_channels").fetchone()[0] == WRITES


async def test_a_long_read_by_the_learner_does_not_hold_up_the_bot(tmp_path: Path) -> None:
    store = await Store(tmp_path / "bot.sqlite3").open()
    learner = await LearningStore.open(tmp_path / "bot.sqlite3")
    try:
        await learner.db.execute("BEGIN")
        async with learner.db.execute("SELECT COUNT(*) FROM feedback") as cursor:
            await cursor.fetchone()  # the learner's read transaction stays open ...
        started = time.monotonic()
        await store.rate("job-1", 1, "a request", "a reply", 4, guild_id=1)  # ... while the bot commits
        took = time.monotonic() - started
        await learner.db.execute("COMMIT")
    finally:
        await learner.close()
        await store.close()
    assert took < 1.0  # the rollback journal would make this wait out the busy timeout, then fail


async def test_backup_copies_the_store_while_it_is_open(tmp_path: Path) -> None:
    source = tmp_path / "bot.sqlite3"
    store = await Store(source).open()
    try:
        await store.rate("job-1", 1, "a request", "a reply", 4, guild_id=1)  # committed, still in the -wal file
        result = CliRunner().invoke(app, ["backup", str(tmp_path / "copy.sqlite3"), "--store", str(source)])
        assert result.exit_code == 0, result.output
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "copy.sqlite3") as copy:
        assert copy.execute("SELECT rating FROM feedback").fetchall() == [(4,)]
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_backup_refuses_a_missing_store_or_to_overwrite_it(tmp_path: Path) -> None:
    from implementor.cli.main import main  # noqa: F401 (the errors are ConfigErrors that main prints)

    missing = CliRunner().invoke(app, ["backup", str(tmp_path / "copy"), "--store", str(tmp_path / "none")])
    assert missing.exit_code != 0 and "no bot store" in str(missing.exception)
    (tmp_path / "bot.sqlite3").write_bytes(b"")
    same = CliRunner().invoke(app, ["backup", str(tmp_path / "bot.sqlite3"), "--store", str(tmp_path / "bot.sqlite3")])
    assert same.exit_code != 0 and "overwrite" in str(same.exception)


def test_backup_sends_a_postgresql_store_to_pg_dump(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPLEMENTOR_STORE_URL", "postgresql://bot:secret@db:5432/implementor")
    result = CliRunner().invoke(app, ["backup", str(tmp_path / "copy.sqlite3")])
    assert result.exit_code != 0 and "pg_dump" in str(result.exception) and "secret" not in str(result.exception)
