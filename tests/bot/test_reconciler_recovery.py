"""Posting survives what used to lose or double it: a bot restarted while its jobs ran, a crash between
sending a result and recording it, and Discord refusing a post or one of its follow-ups. Every result
is posted exactly once, and one job's trouble never holds up another's.
"""

from __future__ import annotations

from typing import Any

import pytest
from bot_fake_client import Ask, FakeChannel, MakeInteraction, Restart
from bot_fake_queue import Clock, FakeJobs, long_cv

from implementor.bot.app import Wiring
from implementor.bot.limits import Limits
from implementor.bot.render import cv_embed
from implementor.config.settings import Settings
from implementor.store.database import Store


async def test_a_restarted_bot_posts_a_job_that_finished_while_it_was_down_exactly_once(
        wiring: Wiring, jobs: FakeJobs, limits: Limits, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel, restart: Restart) -> None:
    jobs.hold = True
    await ask(make_interaction())
    job_id = jobs.submitted[0].job_id
    jobs.release()  # the worker finishes while no bot is running
    restarted, store = await restart()
    for _ in range(3):
        await restarted.reconciler.pass_once()
    [post] = channel.posts
    [status] = channel.statuses
    assert status.deleted
    record = await store.jobs.get(job_id)
    assert record is not None and record.status == "posted" and record.message_id == post.id
    assert await limits.in_flight() == 0 and len(jobs.submitted) == 1


async def test_a_restarted_bot_queues_a_job_its_predecessor_wrote_down_but_never_queued(
        jobs: FakeJobs, ask: Ask, make_interaction: MakeInteraction, channel: FakeChannel, restart: Restart,
        clock: Clock) -> None:
    jobs.down = True
    await ask(make_interaction())  # written down and answered; the broker was away
    jobs.down = False
    restarted, store = await restart()
    clock.advance(11)  # past the front door's grace: the job is the reconciler's to queue
    await restarted.reconciler.pass_once()
    assert len(jobs.submitted) == 1 and len(channel.posts) == 1 and await store.jobs.open_jobs() == []


async def crash_after_claiming(wiring: Wiring, jobs: FakeJobs, store: Store, send: bool) -> str:
    """The old bot claims a finished job for posting, maybe sends it, and dies before recording it."""
    job_id = jobs.submitted[0].job_id
    await store.jobs.store_result(job_id, jobs.results[job_id])
    assert await store.jobs.claim_post(job_id)
    record = await store.jobs.get(job_id)
    assert record is not None and record.result is not None
    if send:
        await wiring.reconciler.poster.post_result(record, record.result)
    return job_id


async def test_a_result_sent_but_not_recorded_before_a_crash_is_not_posted_twice(
        wiring: Wiring, jobs: FakeJobs, store: Store, limits: Limits, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel, restart: Restart) -> None:
    await ask(make_interaction())
    job_id = await crash_after_claiming(wiring, jobs, store, send=True)
    [sent] = channel.posts
    restarted, reopened = await restart()
    await restarted.reconciler.pass_once()
    await restarted.reconciler.pass_once()
    assert channel.posts == [sent] and channel.history_reads >= 1  # it looked before posting again
    record = await reopened.jobs.get(job_id)
    assert record is not None and record.status == "posted" and record.message_id == sent.id
    assert channel.statuses[0].deleted and await limits.in_flight() == 0


async def test_a_claim_left_by_a_crash_before_sending_is_posted_once(
        wiring: Wiring, jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel, restart: Restart) -> None:
    await ask(make_interaction())
    job_id = await crash_after_claiming(wiring, jobs, store, send=False)
    restarted, reopened = await restart()
    await restarted.reconciler.pass_once()
    await restarted.reconciler.pass_once()
    [post] = channel.posts
    record = await reopened.jobs.get(job_id)
    assert record is not None and record.status == "posted" and record.message_id == post.id


async def test_a_post_discord_refused_is_retried_on_the_next_pass_and_posted_once(
        wiring: Wiring, jobs: FakeJobs, store: Store, limits: Limits, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel) -> None:
    await ask(make_interaction())
    channel.refuse(True)
    await wiring.reconciler.pass_once()
    assert channel.posts == []
    [record] = await store.jobs.open_jobs()
    assert record.status == "posting" and await limits.in_flight() == 1

    await wiring.reconciler.pass_once()
    await wiring.reconciler.pass_once()
    assert len(channel.posts) == 1 and channel.statuses[0].deleted and await limits.in_flight() == 0


async def test_one_job_whose_post_discord_refuses_does_not_hold_up_the_others(
        wiring: Wiring, jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel) -> None:
    await ask(make_interaction(user_id=41))
    await ask(make_interaction(user_id=42))
    channel.refuse(True)  # the first job's post fails; the second's goes out in the same pass
    await wiring.reconciler.pass_once()
    second = await store.jobs.get(jobs.submitted[1].job_id)
    assert second is not None and second.status == "posted" and len(channel.posts) == 1

    await wiring.reconciler.pass_once()
    assert len(channel.posts) == 2 and await store.jobs.open_jobs() == []


async def test_a_follow_up_discord_refused_is_sent_on_the_next_pass_without_posting_again(
        wiring: Wiring, jobs: FakeJobs, store: Store, limits: Limits, make_interaction: MakeInteraction,
        introduce: Ask, channel: FakeChannel) -> None:
    jobs.cv = long_cv()
    expected = cv_embed("Ada Lovelace", "Data Scientist", jobs.cv).follow_ups
    assert len(expected) >= 2
    await introduce(make_interaction())
    channel.refuse(False, True)  # the embed goes out, its first follow-up does not
    await wiring.reconciler.pass_once()
    assert len(channel.posts) == 1

    await wiring.reconciler.pass_once()
    await wiring.reconciler.pass_once()
    follow_ups = [m.content for m in channel.messages if m.embed is None and m.content in expected]
    assert len(channel.posts) == 1 and follow_ups == expected  # each once, in order
    assert channel.statuses[0].deleted and await store.jobs.open_jobs() == []
    assert await limits.in_flight() == 0


async def test_a_result_discord_refuses_until_it_expires_ends_failed_with_its_slot_back(
        wiring: Wiring, settings: Settings, store: Store, limits: Limits, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel, clock: Clock) -> None:
    await ask(make_interaction())
    channel.refuse(*[True] * 10)  # the bot lost Send Messages in this channel, for good
    await wiring.reconciler.pass_once()
    await wiring.reconciler.pass_once()
    [record] = await store.jobs.open_jobs()
    assert record.status == "posting" and await limits.in_flight() == 1

    clock.advance(settings.result_ttl_s + 1)
    await wiring.reconciler.pass_once()
    assert await store.jobs.open_jobs() == [] and channel.posts == []
    record = await store.jobs.get(record.job_id)
    assert record is not None and record.status == "failed" and "refused" in (record.error or "")
    assert await limits.in_flight() == 0


def count_hires(store: Store) -> list[str | None]:
    """Every call to the roster's hire from here on, by job (the roster's unique index would hide a second)."""
    hires: list[str | None] = []
    hire = store.hire

    async def counted(*args: Any, **kwargs: Any) -> Any:
        hires.append(kwargs.get("job_id"))
        return await hire(*args, **kwargs)

    store.hire = counted  # type: ignore[method-assign]
    return hires


async def test_an_introduction_hires_once_even_when_its_follow_ups_are_rendered_again(
        wiring: Wiring, jobs: FakeJobs, store: Store, make_interaction: MakeInteraction, introduce: Ask,
        channel: FakeChannel) -> None:
    hires = count_hires(store)
    jobs.cv = long_cv()
    await introduce(make_interaction())
    channel.refuse(False, True)  # the embed goes out, its first follow-up does not: the next pass renders again
    for _ in range(3):
        await wiring.reconciler.pass_once()
    assert len(channel.posts) == 1 and await store.jobs.open_jobs() == []
    assert hires == [jobs.submitted[0].job_id]  # one call, when the result arrived
    assert [c.name for c in await store.roster(7)] == ["Ada Lovelace"]


async def test_a_hire_the_book_never_recorded_the_result_of_is_made_again_and_stays_one_colleague(
        wiring: Wiring, jobs: FakeJobs, store: Store, make_interaction: MakeInteraction, introduce: Ask,
        channel: FakeChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    hires = count_hires(store)
    await introduce(make_interaction())
    store_result = store.jobs.store_result

    async def crash(job_id: str, result: Any) -> bool:
        raise RuntimeError("the bot died here")

    monkeypatch.setattr(store.jobs, "store_result", crash)
    with pytest.raises(RuntimeError):
        await wiring.reconciler.pass_once()  # hired, then gone before the book had the result
    monkeypatch.setattr(store.jobs, "store_result", store_result)
    await wiring.reconciler.pass_once()
    job_id = jobs.submitted[0].job_id
    assert hires == [job_id, job_id] and len(channel.posts) == 1  # asked twice, across the crash...
    assert [c.name for c in await store.roster(7)] == ["Ada Lovelace"]  # ...hired once (the roster's index)
