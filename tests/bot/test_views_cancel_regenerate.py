"""The Cancel button on a status message (a queued job is withdrawn for good; a running one is too late)
and the Regenerate button under a reply (for the member who asked or a moderator, and a request like any other:
the cooldown and the in-flight cap apply)."""

from __future__ import annotations

import pytest
from bot_fake_client import Ask, FakeChannel, MakeInteraction, Settle
from bot_fake_queue import REQUEST, FakeJobs

from implementor.bot.app import Wiring
from implementor.bot.limits import Limits
from implementor.contracts.jobs import IntroduceJob
from implementor.store.database import Store


async def test_cancel_withdraws_a_queued_job_which_then_never_runs(
        wiring: Wiring, jobs: FakeJobs, store: Store, limits: Limits, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel) -> None:
    jobs.hold = True
    asker = make_interaction(user_id=42)
    await ask(asker)
    job_id = jobs.submitted[0].job_id
    other = make_interaction(user_id=43)
    await wiring.buttons.cancel(job_id).callback(other)  # type: ignore[arg-type]
    assert other.response.private == ["Only the member who asked can cancel this."] and jobs.withdraw_calls == []

    clicker = make_interaction(user_id=42)
    await wiring.buttons.cancel(job_id).callback(clicker)  # type: ignore[arg-type]
    assert clicker.response.private == ["Cancelled: it will not run."] and clicker.response.public == []
    assert jobs.withdrawn == [job_id]
    record = await store.jobs.get(job_id)
    assert record is not None and record.status == "cancelled" and await limits.in_flight() == 0
    [status] = channel.statuses
    assert status.content == "✖️ Cancelled." and status.view is None

    await wiring.reconciler.pass_once()
    assert channel.posts == [] and status.content == "✖️ Cancelled."


async def test_cancel_of_a_running_job_is_too_late_and_changes_nothing(
        wiring: Wiring, jobs: FakeJobs, store: Store, limits: Limits, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel, settle: Settle) -> None:
    jobs.hold = True
    await ask(make_interaction(user_id=42))
    job_id = jobs.submitted[0].job_id
    jobs.start(job_id)  # a worker has admitted it
    [status] = channel.statuses
    before = (status.content, len(status.edits))
    clicker = make_interaction(user_id=42)
    await wiring.buttons.cancel(job_id).callback(clicker)  # type: ignore[arg-type]
    assert clicker.response.private == ["Too late to cancel: it is already running, or over."]
    assert jobs.withdraw_calls == [job_id] and jobs.withdrawn == []
    record = await store.jobs.get(job_id)
    assert record is not None and record.status == "queued" and await limits.in_flight() == 1
    assert (status.content, len(status.edits)) == before

    jobs.release()
    await settle()
    assert len(channel.posts) == 1  # it runs to its end and is posted


async def test_cancel_while_the_queue_cannot_be_reached_says_so_privately(
        wiring: Wiring, jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction) -> None:
    jobs.hold = True
    await ask(make_interaction(user_id=42))
    jobs.down = True
    clicker = make_interaction(user_id=42)
    await wiring.buttons.cancel(jobs.submitted[0].job_id).callback(clicker)  # type: ignore[arg-type]
    assert "cannot reach the queue" in (clicker.response.private[0] or "") and clicker.response.public == []
    [record] = await store.jobs.open_jobs()
    assert record.status == "queued"


async def test_regenerate_answers_again_in_place(
        wiring: Wiring, jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction, settle: Settle,
        channel: FakeChannel) -> None:
    await ask(make_interaction(user_id=42))
    await settle()
    job_id = jobs.submitted[0].job_id
    stranger = make_interaction(user_id=61)
    await wiring.buttons.regenerate(job_id).callback(stranger)  # type: ignore[arg-type]
    assert "Only the member who asked" in (stranger.response.private[0] or "") and stranger.response.public == []
    [answer] = channel.posts
    jobs.hold = True
    clicker = make_interaction(user_id=60, manage_messages=True)  # a moderator may
    clicker.message = answer
    await wiring.buttons.regenerate(job_id).callback(clicker)  # type: ignore[arg-type]
    assert clicker.response.deferred and clicker.response.messages == []  # no new message: the answer shows it
    assert (answer.content or "").startswith("⏳ Queued") and answer.embed is not None  # the old answer stays
    new_job = jobs.submitted[1].job_id
    assert answer.custom_ids == [f"implementor:cancel:{new_job}"]
    again = make_interaction(user_id=42)
    await wiring.buttons.regenerate(job_id).callback(again)  # type: ignore[arg-type]
    assert "already being written" in (again.response.private[0] or "")  # one at a time: they share the message
    jobs.release()
    await settle()
    assert channel.posts == [answer] and channel.left == [answer]  # still one message
    assert f"implementor:regen:{new_job}" in answer.custom_ids and (answer.content or "").startswith("<@60>")
    assert [getattr(j, "request", None) for j in jobs.submitted] == [REQUEST, REQUEST]

    introduction = IntroduceJob(job_id="job-intro-1")
    await store.jobs.add(introduction, 7, 500, 42)
    await store.jobs.store_result("job-intro-1", jobs.result_for(introduction))
    refused = make_interaction(user_id=42)
    await wiring.buttons.regenerate("job-intro-1").callback(refused)  # type: ignore[arg-type]
    assert "Only project replies" in (refused.response.private[0] or "") and len(jobs.submitted) == 2


async def test_regenerate_counts_against_the_cooldown(wiring: Wiring, jobs: FakeJobs, ask: Ask,
                                                      make_interaction: MakeInteraction, settle: Settle) -> None:
    await ask(make_interaction(user_id=42))
    await settle()
    again = make_interaction(user_id=42)
    await wiring.buttons.regenerate(jobs.submitted[0].job_id).callback(again)  # type: ignore[arg-type]
    assert "again in" in (again.response.private[0] or "") and again.response.public == []
    assert len(jobs.submitted) == 1


@pytest.mark.parametrize("settings", [{"user_cooldown_s": 0}], indirect=True)
async def test_regenerate_keeps_to_the_in_flight_cap(
        wiring: Wiring, jobs: FakeJobs, ask: Ask, make_interaction: MakeInteraction, settle: Settle,
        channel: FakeChannel) -> None:
    for _ in range(3):
        await ask(make_interaction(user_id=42))
        await settle()
    answers = [job.job_id for job in jobs.submitted]
    jobs.hold = True
    for job_id in answers[:2]:  # with no cooldown, the member's cap of 2 in flight allows two
        again = make_interaction(user_id=42)
        await wiring.buttons.regenerate(job_id).callback(again)  # type: ignore[arg-type]
        assert again.response.deferred and again.response.private == []
    capped = make_interaction(user_id=42)
    await wiring.buttons.regenerate(answers[2]).callback(capped)  # type: ignore[arg-type]
    assert capped.response.public == [] and "already have 2 requests" in (capped.response.private[0] or "")
    assert len(jobs.submitted) == 5

    jobs.release()
    await settle()
    assert len(channel.posts) == 3  # each regenerated answer in its own message, none added


async def test_a_regenerate_that_does_not_answer_gives_the_answer_its_buttons_back(
        wiring: Wiring, jobs: FakeJobs, ask: Ask, make_interaction: MakeInteraction, settle: Settle,
        channel: FakeChannel) -> None:
    await ask(make_interaction(user_id=42))
    await settle()
    [answer] = channel.posts
    first = jobs.submitted[0].job_id
    jobs.hold = True
    moderator = make_interaction(user_id=60, manage_messages=True)  # the asker's cooldown is running
    await wiring.buttons.regenerate(first).callback(moderator)  # type: ignore[arg-type]
    regen = jobs.submitted[1].job_id
    clicker = make_interaction(user_id=60)
    await wiring.buttons.cancel(regen).callback(clicker)  # type: ignore[arg-type]
    assert clicker.response.private == ["Cancelled: it will not run."]
    assert answer.content == "✖️ Cancelled." and f"implementor:regen:{first}" in answer.custom_ids
    assert answer.embed is not None and channel.left == [answer]
