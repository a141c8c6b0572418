"""The store: the roster and the ratings across a reopening and a hire made once per job (on SQLite and
PostgreSQL alike), a clear error for an unusable path, and a store made by the old bot (before the job
book) migrated in place."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import fakeredis
import pytest
import pytest_asyncio
from bot_fake_client import Channels, FakeClient
from bot_fake_queue import Clock, FakeJobs

from implementor.bot.app import wire
from implementor.bot.limits import LimitConfig, Limits
from implementor.config.settings import Settings
from implementor.contracts.errors import DataError
from implementor.contracts.jobs import ProjectResult
from implementor.store.database import Store
from implementor.store.opening import migrate_store
from implementor.training.rerank.quality_data import load_feedback

OpenStore = Callable[[Path | str], Awaitable[Store]]


@pytest_asyncio.fixture
async def open_store() -> AsyncIterator[OpenStore]:
    """Open stores by path; all are closed after the test, passed or not (an open one keeps pytest waiting)."""
    opened: list[Store] = []

    async def open_store(path: Path | str) -> Store:
        if str(path).startswith("postgresql://"):
            await migrate_store(path)  # as `implementor migrate` does, before anything opens it
        opened.append(await Store(path).open())
        return opened[-1]

    yield open_store
    for store in opened:
        await store.close()


async def test_the_roster_survives_a_restart(store_url: str, tmp_path: Path,
                                            open_store: OpenStore) -> None:
    store = await open_store(store_url)
    await store.hire(7, "Ada Lovelace", "Data Scientist", 7, "## Profile\nI count.", b"png-1", hired_by=42)
    await store.hire(7, "Alan Turing", "Cryptanalyst", 8, "## Profile\nI decode.", b"png-2", hired_by=43)
    await store.hire(9, "Grace Hopper", "Programmer", 9, "## Profile\nI compile.", b"png-3", hired_by=44)
    await store.close()
    reopened = await open_store(store_url)
    team = await reopened.roster(7)
    assert [(c.name, c.position) for c in team] == [("Ada Lovelace", 1), ("Alan Turing", 2)]
    current = await reopened.colleague(7)
    assert current is not None and current.name == "Alan Turing" and current.png == b"png-2"
    assert await reopened.colleague(123) is None
    assert (await reopened.colleague(7, team[0].id)).name == "Ada Lovelace"  # type: ignore[union-attr]


async def test_a_jobs_hire_happens_once_however_often_it_is_posted(store_url: str, tmp_path: Path,
                                                                  open_store: OpenStore) -> None:
    store = await open_store(store_url)
    for _ in range(2):
        await store.hire(7, "Ada Lovelace", "Data Scientist", 7, "cv", b"png", hired_by=42, job_id="job-hire-1")
    await store.hire(7, "Alan Turing", "Cryptanalyst", 8, "cv", b"png", hired_by=42, job_id="job-hire-2")
    assert [c.name for c in await store.roster(7)] == ["Ada Lovelace", "Alan Turing"]


async def test_feedback_exports_as_the_quality_models_input(store_url: str, tmp_path: Path,
                                                           open_store: OpenStore) -> None:
    store = await open_store(store_url)
    await store.rate("job-0001", 42, "Help with the launch?", "Yes, I can.", 5, guild_id=7)
    await store.rate("job-0001", 42, "Help with the launch?", "Yes, I can.", 1,
                     guild_id=7)  # a member changes their mind
    await store.rate("job-0001", 43, "Help with the launch?", "Yes, I can.", 5, guild_id=7)
    with pytest.raises(DataError):
        await store.rate("job-0002", 42, "x", "y", 7, guild_id=7)
    count = await store.export_feedback(tmp_path / "feedback.jsonl")
    assert count == 2
    ratings = load_feedback(tmp_path / "feedback.jsonl")  # what `implementor train quality` reads
    assert sorted(f.rating for f in ratings) == [1.0, 5.0]


async def test_an_unusable_store_path_is_a_clear_error(tmp_path: Path, open_store: OpenStore) -> None:
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(DataError, match="cannot open the bot's store"):
        await open_store(tmp_path / "dir.sqlite3")


# The tables as the bot made them before the job book (git show HEAD~3:implementor/store/database.py).
OLD_SCHEMA = """
CREATE TABLE colleagues (id INTEGER PRIMARY KEY AUTOINCREMENT, guild_id INTEGER NOT NULL, name TEXT NOT NULL,
    title TEXT NOT NULL, seed INTEGER NOT NULL, cv TEXT NOT NULL, png BLOB NOT NULL, hired_by INTEGER NOT NULL,
    hired_at REAL NOT NULL);
CREATE INDEX colleagues_by_guild ON colleagues (guild_id, id);
CREATE TABLE jobs (job_id TEXT PRIMARY KEY, kind TEXT NOT NULL, guild_id INTEGER, channel_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL, request TEXT, status TEXT NOT NULL, result TEXT, message_id INTEGER,
    created_at REAL NOT NULL, finished_at REAL);
CREATE TABLE feedback (job_id TEXT NOT NULL, user_id INTEGER NOT NULL, request TEXT NOT NULL, reply TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5), rated_at REAL NOT NULL, PRIMARY KEY (job_id, user_id));
INSERT INTO colleagues (guild_id, name, title, seed, cv, png, hired_by, hired_at)
    VALUES (7, 'Ada Lovelace', 'Data Scientist', 7, '## Profile\nI count.', x'89504e47', 42, 1.0);
INSERT INTO jobs VALUES ('job-old-posted', 'project', 7, 500, 42, 'Help with the launch?', 'posted',
    '{"job_id": "job-old-posted", "status": "ok", "error": null, "attempts": 1, "timings_ms": {}, "kind": "project",
      "reply": "Yes.", "candidates": [], "low_confidence": false}', 111, 1.0, 2.0);
INSERT INTO jobs VALUES ('job-old-running', 'project', 7, 500, 43, 'Help with the budget?', 'queued',
    NULL, NULL, CAST(strftime('%s', 'now') AS REAL), NULL);
INSERT INTO feedback VALUES ('job-old-posted', 50, 'Help with the launch?', 'Yes.', 5, 3.0);
"""


def old_store(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)


async def test_a_store_made_by_the_old_bot_is_migrated_and_keeps_its_rows(tmp_path: Path,
                                                                          open_store: OpenStore) -> None:
    old_store(tmp_path / "bot.sqlite3")
    for _ in range(2):  # migrating twice changes nothing
        store = await open_store(tmp_path / "bot.sqlite3")
        ada = (await store.roster(7))[0]
        assert (ada.name, ada.png, ada.position) == ("Ada Lovelace", b"\x89PNG", 1)
        posted = await store.jobs.get("job-old-posted")
        assert posted is not None and (posted.status, posted.message_id) == ("posted", 111)
        assert posted.result == ProjectResult(job_id="job-old-posted", status="ok", reply="Yes.")
        assert posted.request == "Help with the launch?"
        assert posted.slot_open == 0 and posted.extras_sent == 0 and posted.queued_job() is None
        assert [r["rating"] for r in await store.feedback()] == [5]
        # the old rating takes its server from its job, and is shown there only
        assert [r["job_id"] for r in await store.server_feedback(7)] == ["job-old-posted"]
        assert await store.server_feedback(8) == []
        await store.hire(7, "Alan Turing", "Cryptanalyst", 8, "cv", b"png", hired_by=42, job_id="job-new-hire")
        assert [c.name for c in await store.roster(7)] == ["Ada Lovelace", "Alan Turing"]  # hired once
        await store.close()


async def test_a_job_the_old_bot_left_running_ends_failed_instead_of_staying_open(tmp_path: Path,
                                                                                  open_store: OpenStore) -> None:
    old_store(tmp_path / "bot.sqlite3")
    store = await open_store(tmp_path / "bot.sqlite3")
    settings = Settings(bot_store_path=tmp_path / "bot.sqlite3")
    limits = Limits(fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer()), LimitConfig(20, 2, 50))
    jobs = FakeJobs()
    wiring = wire(client=FakeClient(Channels()), jobs=jobs, store=store, limits=limits,  # type: ignore[arg-type]
                  settings=settings)
    wiring.reconciler.clock = clock = Clock()
    await wiring.reconciler.pass_once()  # the broker does not know it (the old bot's id scheme, or long gone)
    clock.advance(wiring.reconciler.lost_after_s + 1)
    await wiring.reconciler.pass_once()  # not recorded in full: it cannot be queued again
    record = await store.jobs.get("job-old-running")
    assert record is not None and record.status == "failed" and await store.jobs.open_jobs() == []
    assert jobs.submitted == []
