"""The SQLite store: the roster, the job ledger and the ratings, across a reopening."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import Store
from contracts.errors import DataError
from models.rerank.quality_data import load_feedback


async def test_the_roster_survives_a_restart(tmp_path: Path) -> None:
    store = await Store(tmp_path / "bot.sqlite3").open()
    await store.hire(7, "Ada Lovelace", "Data Scientist", 7, "## Profile\nI count.", b"png-1", hired_by=42)
    await store.hire(7, "Alan Turing", "Cryptanalyst", 8, "## Profile\nI decode.", b"png-2", hired_by=43)
    await store.hire(9, "Grace Hopper", "Programmer", 9, "## Profile\nI compile.", b"png-3", hired_by=44)
    await store.close()
    reopened = await Store(tmp_path / "bot.sqlite3").open()
    team = await reopened.roster(7)
    assert [(c.name, c.position) for c in team] == [("Ada Lovelace", 1), ("Alan Turing", 2)]
    current = await reopened.colleague(7)
    assert current is not None and current.name == "Alan Turing" and current.png == b"png-2"
    assert await reopened.colleague(123) is None
    await reopened.close()


async def test_a_result_is_posted_once(tmp_path: Path) -> None:
    store = await Store(tmp_path / "bot.sqlite3").open()
    await store.add_job("job-0001", "project", 7, 500, 42, "Help with the launch?")
    await store.finish_job("job-0001", "done", {"reply": "Yes."})
    assert await store.mark_posted("job-0001", 111)
    assert not await store.mark_posted("job-0001", 222)
    job = await store.job("job-0001")
    assert job is not None and job.message_id == 111 and job.status == "posted" and job.result == {"reply": "Yes."}
    await store.close()


async def test_feedback_exports_as_the_quality_models_input(tmp_path: Path) -> None:
    store = await Store(tmp_path / "bot.sqlite3").open()
    await store.rate("job-0001", 42, "Help with the launch?", "Yes, I can.", 5)
    await store.rate("job-0001", 42, "Help with the launch?", "Yes, I can.", 1)  # a member changes their mind
    await store.rate("job-0001", 43, "Help with the launch?", "Yes, I can.", 5)
    with pytest.raises(DataError):
        await store.rate("job-0002", 42, "x", "y", 7)
    count = await store.export_feedback(tmp_path / "feedback.jsonl")
    assert count == 2
    ratings = load_feedback(tmp_path / "feedback.jsonl")  # what `implementor train quality` reads
    assert sorted(f.rating for f in ratings) == [1.0, 5.0]
    await store.close()


async def test_an_unusable_store_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(DataError, match="cannot open the bot's store"):
        await Store(tmp_path / "dir.sqlite3").open()
