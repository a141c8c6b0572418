"""The reconciler following open jobs on the broker: results posted once, honest ends, status messages
edited only when the queue moves, a broker that is away or lost a job, a slow queue, expiry, and the
member's slot given back on every end (again and again until Redis takes it).
"""

from __future__ import annotations

import fakeredis
import pytest
from bot_fake_client import Ask, FakeChannel, MakeInteraction
from bot_fake_queue import Clock, FakeJobs

from implementor.bot.app import Wiring
from implementor.bot.limits import Limits
from implementor.config.settings import Settings
from implementor.store.database import Store


async def test_a_finished_job_is_posted_once_its_status_says_done_and_the_slot_comes_back(
        wiring: Wiring, jobs: FakeJobs, store: Store, limits: Limits, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel) -> None:
    await ask(make_interaction())
    assert await limits.in_flight() == 1
    for _ in range(3):
        await wiring.reconciler.pass_once()
    [post] = channel.posts
    [status] = channel.statuses
    assert status.deleted  # one message per request: the status goes once the result is out
    record = await store.jobs.get(jobs.submitted[0].job_id)
    assert record is not None and record.status == "posted" and record.message_id == post.id
    assert await limits.in_flight() == 0 and record.slot_open == 0


async def test_a_status_is_edited_only_when_the_queue_moves_or_a_minute_has_passed(
        wiring: Wiring, jobs: FakeJobs, ask: Ask, make_interaction: MakeInteraction, channel: FakeChannel,
        clock: Clock) -> None:
    jobs.hold = True
    await ask(make_interaction(user_id=41))
    await ask(make_interaction(user_id=42))
    first, second = channel.statuses
    await wiring.reconciler.pass_once()
    edits = len(second.edits)
    await wiring.reconciler.pass_once()
    assert len(second.edits) == edits  # nothing moved: nothing edited

    jobs.release(jobs.submitted[0].job_id)
    await wiring.reconciler.pass_once()
    assert first.deleted
    assert len(second.edits) == edits + 1 and (second.content or "").startswith("⏳ Queued: number 1 in the queue")
    await wiring.reconciler.pass_once()
    assert len(second.edits) == edits + 1

    clock.advance(61)  # the estimate says when it was made: refreshed once a minute
    await wiring.reconciler.pass_once()
    assert len(second.edits) == edits + 2


async def test_a_job_a_worker_runs_says_so(
        wiring: Wiring, jobs: FakeJobs, ask: Ask, make_interaction: MakeInteraction, channel: FakeChannel) -> None:
    jobs.hold = True
    await ask(make_interaction())
    jobs.start(jobs.submitted[0].job_id)
    await wiring.reconciler.pass_once()
    assert channel.statuses[0].content == "✍️ Writing drafts and picking the best..."


async def test_a_job_at_a_stage_the_bot_does_not_know_is_working_not_done(
        wiring: Wiring, jobs: FakeJobs, ask: Ask, make_interaction: MakeInteraction, channel: FakeChannel) -> None:
    jobs.hold, jobs.running_stage = True, "done"  # a worker's free text: the job is still running
    await ask(make_interaction())
    jobs.start(jobs.submitted[0].job_id)
    await wiring.reconciler.pass_once()
    assert channel.statuses[0].content == "⚙️ Working on it..."
    jobs.running_stage = "loading models"
    await wiring.reconciler.pass_once()
    assert channel.statuses[0].content == "⚙️ Waking up (loading the models)..."


async def test_the_broker_away_fails_nothing_and_the_status_says_it_cannot_be_reached(
        wiring: Wiring, jobs: FakeJobs, store: Store, limits: Limits, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel) -> None:
    jobs.hold = True
    await ask(make_interaction())
    jobs.down = True
    for _ in range(3):
        await wiring.reconciler.pass_once()  # no error: the pass keeps every job as it is
    [record] = await store.jobs.open_jobs()
    assert record.status == "queued" and not wiring.reconciler.broker_ok
    assert "cannot be reached" in (channel.statuses[0].content or "") and await limits.in_flight() == 1

    jobs.down = False
    jobs.release()
    await wiring.reconciler.pass_once()
    assert len(channel.posts) == 1 and channel.statuses[0].deleted and wiring.reconciler.broker_ok
    assert await store.jobs.open_jobs() == [] and await limits.in_flight() == 0


async def test_a_job_the_broker_lost_is_submitted_again_after_lost_after_s_and_answered_once(
        wiring: Wiring, jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel, clock: Clock) -> None:
    jobs.hold = True
    await ask(make_interaction())
    job_id = jobs.submitted[0].job_id
    jobs.lose(job_id)
    await wiring.reconciler.pass_once()  # first seen missing
    clock.advance(wiring.reconciler.lost_after_s - 5)
    await wiring.reconciler.pass_once()
    assert len(jobs.submitted) == 1  # a moment out of sight is not lost

    clock.advance(10)
    await wiring.reconciler.pass_once()
    assert [j.job_id for j in jobs.submitted] == [job_id, job_id]  # the same job, under its own id
    jobs.release()
    for _ in range(3):
        await wiring.reconciler.pass_once()
    assert len(channel.posts) == 1 and len(jobs.submitted) == 2
    record = await store.jobs.get(job_id)
    assert record is not None and record.status == "posted"


async def test_a_job_whose_worker_died_is_submitted_again_at_once_and_answered_once(
        wiring: Wiring, jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel) -> None:
    jobs.hold = True
    await ask(make_interaction())
    job_id = jobs.submitted[0].job_id
    jobs.start(job_id)
    await wiring.reconciler.pass_once()
    assert jobs.resubmitted == []  # running on a live worker: left alone
    jobs.kill(job_id)
    await wiring.reconciler.pass_once()  # no lost_after_s wait: the dead worker's heartbeat already lapsed
    assert jobs.resubmitted == [(job_id, "gpu1@host/41")] and [j.job_id for j in jobs.submitted] == [job_id] * 2
    await wiring.reconciler.pass_once()
    assert len(jobs.resubmitted) == 1  # the new copy waits for a worker: not submitted again
    jobs.release()
    for _ in range(3):
        await wiring.reconciler.pass_once()
    record = await store.jobs.get(job_id)
    assert len(channel.posts) == 1 and record is not None and record.status == "posted"


async def test_a_slow_queue_is_not_a_failure(wiring: Wiring, jobs: FakeJobs, store: Store, settings: Settings,
                                             ask: Ask, make_interaction: MakeInteraction, channel: FakeChannel,
                                             clock: Clock) -> None:
    jobs.hold = True
    await ask(make_interaction())
    clock.advance(3 * settings.task_time_limit_s + 600)  # far beyond what the old bot waited before giving up
    await wiring.reconciler.pass_once()
    [record] = await store.jobs.open_jobs()
    assert record.status == "queued" and (channel.statuses[0].content or "").startswith("⏳ Queued: number 1")

    jobs.release()
    await wiring.reconciler.pass_once()
    assert len(channel.posts) == 1 and channel.statuses[0].deleted


async def test_a_job_older_than_expire_after_s_ends_as_expired_and_is_withdrawn(
        wiring: Wiring, jobs: FakeJobs, store: Store, limits: Limits, settings: Settings, ask: Ask,
        make_interaction: MakeInteraction, channel: FakeChannel, clock: Clock) -> None:
    jobs.hold = True
    await ask(make_interaction())
    job_id = jobs.submitted[0].job_id
    assert wiring.reconciler.expire_after_s == settings.result_ttl_s
    clock.advance(settings.result_ttl_s + 1)
    await wiring.reconciler.pass_once()
    record = await store.jobs.get(job_id)
    assert record is not None and record.status == "expired"
    [status] = channel.statuses
    assert status.content == "⌛ Nothing came back in time, so I stopped waiting; please ask again."
    assert status.view is None and jobs.withdraw_calls == [job_id] and await limits.in_flight() == 0

    jobs.release()  # (a withdrawn job never runs; nothing may be posted for it in any case)
    await wiring.reconciler.pass_once()
    assert channel.posts == []


async def test_a_job_that_failed_ends_with_an_honest_status_and_its_slot_back(
        wiring: Wiring, jobs: FakeJobs, store: Store, limits: Limits, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel) -> None:
    jobs.hold = True
    await ask(make_interaction())
    jobs.release(error="the writer ran out of memory")
    await wiring.reconciler.pass_once()
    record = await store.jobs.get(jobs.submitted[0].job_id)
    assert record is not None and record.status == "failed" and record.error == "the writer ran out of memory"
    assert channel.statuses[0].content == "⚠️ That did not work; please try again." and channel.posts == []
    assert await limits.in_flight() == 0


async def test_a_slot_redis_would_not_take_back_is_returned_by_a_later_pass(
        wiring: Wiring, jobs: FakeJobs, store: Store, limits: Limits, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel, redis_server: fakeredis.FakeServer) -> None:
    await ask(make_interaction())
    redis_server.connected = False
    await wiring.reconciler.pass_once()
    record = await store.jobs.get(jobs.submitted[0].job_id)
    assert record is not None and record.status == "posted" and record.slot_open == 1 and len(channel.posts) == 1

    redis_server.connected = True
    await wiring.reconciler.pass_once()
    record = await store.jobs.get(jobs.submitted[0].job_id)
    assert record is not None and record.slot_open == 0 and await limits.in_flight() == 0


async def test_a_result_the_book_cannot_read_ends_its_job_failed_and_holds_up_no_other(
        wiring: Wiring, jobs: FakeJobs, store: Store, limits: Limits, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel, caplog: pytest.LogCaptureFixture) -> None:
    jobs.hold = True
    await ask(make_interaction(user_id=41))
    await ask(make_interaction(user_id=42))
    broken, fine = (j.job_id for j in jobs.submitted)
    await store.db.execute("UPDATE jobs SET status = 'done', result = ? WHERE job_id = ?",
                           (f'{{"job_id": "{broken}", "status": "ok", "shape": "of no version of ours"}}', broken))
    await store.db.commit()
    jobs.release(fine)
    await wiring.reconciler.pass_once()
    record = await store.jobs.get(broken)
    assert record is not None and record.status == "failed" and record.error == "its result could not be read"
    assert "its stored result cannot be read" in caplog.text
    assert channel.statuses[0].content == "⚠️ That did not work; please try again."
    other = await store.jobs.get(fine)
    assert other is not None and other.status == "posted" and len(channel.posts) == 1
    assert await limits.in_flight() == 0
