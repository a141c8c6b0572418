"""The bot's tables as the learner reads them (`jobbook.posted_reply`): it finds what the
harvest's own SQL found before it, over a store the bot wrote through its job book and rating buttons;
a stored result is typed by its job's kind, an old one too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from implementor.contracts.jobs import IntroduceJob, IntroduceResult, Profile, ProjectJob, ProjectResult
from implementor.contracts.scores import CandidateScore
from implementor.store.consent import LearningStore
from implementor.store.database import Store
from implementor.store.jobbook import read_result
from implementor.store.replies import posted_reply

REQUEST = "Could someone help us plan the spring launch at Acme?"


async def old_lookup(db: aiosqlite.Connection, message_id: int) -> tuple[Any, ...] | None:
    """What the harvest read before the query API, in its own SQL (git show 37c4a9f:learning/harvest_job.py)."""
    async with db.execute("SELECT job_id, request, result, user_id FROM jobs WHERE message_id = ? "
                          "AND kind = 'project'", (message_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None or not row[1] or not row[2]:
        return None
    async with db.execute("SELECT user_id, rating FROM feedback WHERE job_id = ?", (row[0],)) as cursor:
        ratings = await cursor.fetchall()
    return row[0], row[1], json.loads(row[2]), int(row[3]), sorted((int(u), int(r)) for u, r in ratings)


async def post(store: Store, job: IntroduceJob | ProjectJob, result: IntroduceResult | ProjectResult,
               message_id: int | None, asker: int = 42) -> None:
    await store.jobs.add(job, 7, 500, asker)
    await store.jobs.mark_submitted(job.job_id)
    await store.jobs.store_result(job.job_id, result)
    if message_id is not None:
        assert await store.jobs.claim_post(job.job_id) and await store.jobs.mark_posted(job.job_id, message_id)


async def a_bots_store(path: Path) -> Store:
    store = await Store(path).open()
    drafts = [CandidateScore(text="Yes, gladly.", p_real=0.96, quality=4.1, chosen=True, reason="chosen",
                             propensity=0.85),
              CandidateScore(text="No.", p_real=0.2, quality=1.1, chosen=False, reason="too short", propensity=0.15)]
    rated = ProjectJob(job_id="job-rated-1", request=REQUEST)
    await post(store, rated, ProjectResult(job_id=rated.job_id, status="ok", reply="Yes, gladly.", candidates=drafts,
                                           explored=True), 111, asker=41)
    for member, rating in ((50, 5), (51, 1), (52, 3)):
        await store.rate(rated.job_id, member, REQUEST, "Yes, gladly.", rating, guild_id=7)
    plain = ProjectJob(job_id="job-plain-1", request=REQUEST)
    await post(store, plain, ProjectResult(job_id=plain.job_id, status="ok", reply="Happy to."), 222)
    hello = IntroduceJob(job_id="job-intro-1")
    profile = Profile(name="Ada Lovelace", title="Data Scientist", seed=7, cv="## Profile\nI count.", png_base64="")
    await post(store, hello, IntroduceResult(job_id=hello.job_id, status="ok", profile=profile), 333)
    deleted = ProjectJob(job_id="job-deleted-1", request=REQUEST)
    await post(store, deleted, ProjectResult(job_id=deleted.job_id, status="ok", reply="Gone.", candidates=drafts), 444)
    assert await store.jobs.delete(deleted.job_id)  # its drafts go; the reply and its ratings stay
    waiting = ProjectJob(job_id="job-waiting-1", request=REQUEST)
    await store.jobs.add(waiting, 7, 500, 42)
    return store


async def test_posted_reply_finds_what_the_harvests_own_sql_found(tmp_path: Path) -> None:
    store = await a_bots_store(tmp_path / "bot.sqlite3")
    await store.close()
    learning = await LearningStore.open(tmp_path / "bot.sqlite3")  # the learner's own connection
    try:
        for message_id in (111, 222, 333, 444, 555, 999):
            before = await old_lookup(learning.db, message_id)
            found = await posted_reply(learning.db, message_id)
            now = None if found is None else (found.job_id, found.request, found.result.model_dump(mode="json"),
                                              found.asker, sorted(found.ratings.items()))
            assert now == before, message_id
        rated = await posted_reply(learning.db, 111)
    finally:
        await learning.close()
    assert rated is not None and rated.asker == 41 and rated.ratings == {50: 5, 51: 1, 52: 3}
    assert rated.result.explored and [c.propensity for c in rated.result.candidates if c.chosen] == [0.85]


async def test_a_store_the_bot_never_wrote_to_has_no_posted_reply(tmp_path: Path) -> None:
    learning = await LearningStore.open(tmp_path / "bot.sqlite3")  # the learner first: no job yet
    try:
        assert await posted_reply(learning.db, 111) is None
    finally:
        await learning.close()


def test_a_stored_result_is_typed_by_its_jobs_kind_an_old_one_too(caplog: pytest.LogCaptureFixture) -> None:
    profile = {"name": "Ada Lovelace", "title": "Data Scientist", "seed": 7, "cv": "## Profile\nI count.",
               "png_base64": ""}
    old = json.dumps({"job_id": "job-intro-1", "status": "ok", "kind": "introduce", "persona": profile})
    assert read_result("job-intro-1", "introduce", old) == IntroduceResult(job_id="job-intro-1", status="ok",
                                                                           profile=Profile(**profile))
    reply = ProjectResult(job_id="job-plain-1", status="ok", reply="Happy to.")
    assert read_result("job-plain-1", "project", reply.model_dump_json()) == reply
    assert read_result("job-plain-1", "project", None) is None
    assert read_result("job-bad-1", "project", '{"reply": "no id, no status"}') is None
    assert read_result("job-bad-2", "project", "{not json") is None
    assert caplog.text.count("its stored result cannot be read") == 2
