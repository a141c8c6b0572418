"""The book of jobs (`store.jobs`): a job written with everything needed to post it from any process,
and the moves that make posting exactly-once: one claim, one post, one end, one slot to give back."""

from __future__ import annotations

import re
import time
from pathlib import Path

from implementor.contracts.jobs import IntroduceJob, IntroduceResult, ProjectJob, ProjectResult
from implementor.contracts.scores import CandidateScore
from implementor.store.database import Store

REQUEST = "Could someone help us plan the spring launch at Acme?"


def reply(job: ProjectJob, text: str, **more: object) -> ProjectResult:
    return ProjectResult(job_id=job.job_id, status="ok", reply=text, **more)  # type: ignore[arg-type]


async def test_a_job_is_written_with_all_it_takes_to_post_it_from_any_process(store: Store) -> None:
    job = ProjectJob(request=REQUEST)
    await store.jobs.add(job, 7, 500, 42, token="token-1", token_expires=time.time() + 900, colleague_id=3)
    record = await store.jobs.get(job.job_id)
    assert record is not None and record.open and record.status == "accepted"
    assert (record.kind, record.guild_id, record.channel_id, record.user_id) == ("project", 7, 500, 42)
    assert record.request == REQUEST and record.colleague_id == 3 and record.slot_open == 1
    assert record.queued_job() == job  # to submit it again, under its id, if the broker loses it
    assert record.token_alive(time.time()) and not record.token_alive(time.time() + 880)  # with a margin

    await store.jobs.mark_submitted(job.job_id)
    record = await store.jobs.set_status_message(job.job_id, 1001, "⏳ Queued")  # the job as it now stands
    assert record == await store.jobs.get(job.job_id)
    assert record is not None and record.status == "queued" and record.status_message_id == 1001
    assert record.status_text == "⏳ Queued"
    await store.jobs.end(job.job_id, "cancelled")
    record = await store.jobs.set_status_message(job.job_id, None, "⏳ Queued, later")
    assert record is not None and (record.status, record.status_message_id) == ("cancelled", 1001)


async def test_a_result_is_claimed_once_and_posted_once(store: Store) -> None:
    job = ProjectJob(request=REQUEST)
    await store.jobs.add(job, 7, 500, 42)
    await store.jobs.mark_submitted(job.job_id)
    assert await store.jobs.store_result(job.job_id, reply(job, "Yes."))
    assert await store.jobs.claim_post(job.job_id)
    assert not await store.jobs.claim_post(job.job_id)  # a second poster finds it taken
    assert not await store.jobs.store_result(job.job_id, reply(job, "A second delivery."))  # changes nothing now
    assert await store.jobs.mark_posted(job.job_id, 111)
    assert not await store.jobs.mark_posted(job.job_id, 222)
    record = await store.jobs.get(job.job_id)
    assert record is not None and (record.status, record.message_id) == ("posted", 111)
    assert record.result == reply(job, "Yes.") and not record.open and record.finished_at is not None


async def test_a_claim_keeps_where_the_result_went_while_its_follow_ups_go_out(store: Store) -> None:
    job = IntroduceJob()
    await store.jobs.add(job, 7, 500, 42)
    await store.jobs.store_result(job.job_id, IntroduceResult(job_id=job.job_id, status="ok"))
    assert await store.jobs.claim_post(job.job_id)
    await store.jobs.record_post(job.job_id, 111)
    await store.jobs.count_extras(job.job_id, 1)
    [record] = await store.jobs.open_jobs()
    assert (record.status, record.message_id, record.extras_sent) == ("posting", 111, 1)
    assert record.result == IntroduceResult(job_id=job.job_id, status="ok")  # typed by the job's kind
    assert not await store.jobs.claim_post(job.job_id)  # a second poster finds it taken, follow-ups and all


async def test_an_end_is_final_and_leaves_a_slot_to_give_back(store: Store) -> None:
    job = ProjectJob(request=REQUEST)
    await store.jobs.add(job, 7, 500, 42)
    assert await store.jobs.end(job.job_id, "cancelled")
    assert not await store.jobs.end(job.job_id, "failed")
    assert not await store.jobs.store_result(job.job_id, reply(job, "Too late."))
    assert not await store.jobs.claim_post(job.job_id)
    record = await store.jobs.get(job.job_id)
    assert record is not None and record.status == "cancelled" and record.result is None
    assert await store.jobs.open_jobs() == [] and [r.job_id for r in await store.jobs.slots_to_return()] == [job.job_id]
    await store.jobs.slot_returned(job.job_id)
    assert await store.jobs.slots_to_return() == []


async def test_places_in_line_count_the_open_jobs_accepted_before(store: Store) -> None:
    jobs = [ProjectJob(request=REQUEST) for _ in range(3)]
    assert [await store.jobs.add(job, 7, 500, 42) for job in jobs] == [1, 2, 3]  # the front door's one call
    assert [await store.jobs.position(j.job_id) for j in jobs] == [1, 2, 3]
    await store.jobs.end(jobs[0].job_id, "failed")
    assert [await store.jobs.position(j.job_id) for j in jobs[1:]] == [1, 2]
    assert [r.job_id for r in await store.jobs.open_jobs()] == [j.job_id for j in jobs[1:]]  # oldest first


async def test_recent_finishes_are_the_results_newest_first(store: Store) -> None:
    jobs = [ProjectJob(request=REQUEST) for _ in range(3)]
    for job in jobs:
        await store.jobs.add(job, 7, 500, 42)
    await store.jobs.store_result(jobs[0].job_id, reply(jobs[0], "1"))
    await store.jobs.end(jobs[1].job_id, "failed")  # an end without a result tells nothing of throughput
    await store.jobs.store_result(jobs[2].job_id, reply(jobs[2], "3"))
    finishes = await store.jobs.recent_finishes()
    assert len(finishes) == 2 and finishes[0] >= finishes[1]


async def test_only_a_result_that_went_out_can_be_deleted_and_only_once(store: Store) -> None:
    job = ProjectJob(request=REQUEST)
    await store.jobs.add(job, 7, 500, 42)
    assert not await store.jobs.delete(job.job_id)  # nothing was posted: nothing to delete
    draft = CandidateScore(text="Yes.", p_real=0.9, quality=4.0, chosen=True, reason="the best")
    await store.jobs.store_result(job.job_id, reply(job, "Yes.", candidates=[draft]))
    assert not await store.jobs.delete(job.job_id)
    assert await store.jobs.claim_post(job.job_id) and await store.jobs.mark_posted(job.job_id, 111)
    assert await store.jobs.delete(job.job_id)
    assert not await store.jobs.delete(job.job_id) and not await store.jobs.delete("job-never-was")
    record = await store.jobs.get(job.job_id)
    assert record is not None and record.status == "deleted" and record.result == reply(job, "Yes.")  # no drafts


def test_the_job_book_is_the_only_writer_of_the_jobs_table() -> None:
    root = Path(__file__).parents[2]
    writes = re.compile(r"(UPDATE|INSERT INTO|DELETE FROM)\s+jobs\b", re.IGNORECASE)
    writers = sorted(str(path.relative_to(root)) for folder in ("implementor",)
                     for path in (root / folder).rglob("*.py") if writes.search(path.read_text(encoding="utf-8")))
    # The migrations number the jobs that were in the book before `seq` (a schema step, no state move).
    assert writers == ["implementor/store/jobbook.py", "implementor/store/migrations.py"]
