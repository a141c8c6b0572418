"""The front door (`JobRunner.accept`): a request takes its slot, is written down, queued and answered at
once in public; a refusal is raised before anything is said, so it is answered privately; a broker
or a Discord that fails at that moment only delays the job, and a burst gets places in line in order.
"""

from __future__ import annotations

import asyncio
import re

import fakeredis
import pytest
from bot_fake_client import Ask, FakeChannel, FakeInteraction, MakeInteraction, Settle
from bot_fake_queue import REQUEST, Clock, FakeJobs

from implementor.bot.app import Wiring
from implementor.bot.errors import reply_privately
from implementor.bot.limits import Limits
from implementor.contracts.errors import RateLimited
from implementor.contracts.jobs import ProjectJob
from implementor.store.database import Store


def place(text: str | None) -> int:
    found = re.search(r"number (\d+) in the queue", text or "")
    assert found, text
    return int(found[1])


async def test_a_request_is_answered_at_once_in_public_with_its_place_and_a_cancel_button(
        jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction, channel: FakeChannel) -> None:
    jobs.hold = True
    interaction = make_interaction()
    await ask(interaction)
    assert not interaction.response.deferred  # answered, not deferred: the answer is the status itself
    [(text, options)] = interaction.response.public
    assert text is not None and text.startswith("⏳ Queued: number 1 in the queue, about 15 s (as of <t:")
    assert options["allowed_mentions"].to_dict() == {"parse": []}
    [job] = jobs.submitted
    [status] = channel.messages
    assert status.custom_ids == [f"implementor:cancel:{job.job_id}"]
    record = await store.jobs.get(job.job_id)
    assert record is not None and record.status == "queued" and record.status_message_id == status.id
    assert record.token == interaction.token and record.channel_id == channel.id and record.user_id == 42


async def test_the_job_is_written_down_and_queued_before_the_member_is_told(
        jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction) -> None:
    interaction = make_interaction()
    seen: list[tuple[str | None, int]] = []
    answer = interaction.response.send_message

    async def send_message(content: str | None = None, **kwargs: object) -> object:
        [record] = await store.jobs.open_jobs()
        seen.append((record.status, len(jobs.submitted)))
        return await answer(content, **kwargs)

    interaction.response.send_message = send_message  # type: ignore[method-assign, assignment]
    await ask(interaction)
    assert seen == [("queued", 1)]


async def fill_the_member_cap(wiring: Wiring, interaction: FakeInteraction) -> None:
    for _ in range(2):  # without the cooldown, two jobs: the member's cap
        await wiring.runner.accept(ProjectJob(request=REQUEST), interaction.user.id, interaction.guild_id,
                                   interaction.channel_id, interaction=interaction,  # type: ignore[arg-type]
                                   cooldown=False)


async def fill_the_global_cap(ask: Ask, make_interaction: MakeInteraction) -> None:
    for member in (41, 43, 44):
        await ask(make_interaction(user_id=member))


@pytest.mark.parametrize("refusal", ["cooldown", "member cap", "global cap", "redis away"])
async def test_a_refusal_comes_before_any_answer_so_it_is_private(
        refusal: str, wiring: Wiring, jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel, redis_server: fakeredis.FakeServer) -> None:
    jobs.hold = True
    if refusal == "cooldown":
        await ask(make_interaction(user_id=42))
    elif refusal == "member cap":
        await fill_the_member_cap(wiring, make_interaction(user_id=42))
    elif refusal == "global cap":
        await fill_the_global_cap(ask, make_interaction)
    else:
        redis_server.connected = False
    before = (len(channel.messages), len(jobs.submitted), len(await store.jobs.open_jobs()))
    refused = make_interaction(user_id=42)
    with pytest.raises(RateLimited) as error:
        await ask(refused)
    assert refused.response.messages == []  # nothing said yet: the command's error handler answers
    expected = {"cooldown": r"again in (29|30) s", "member cap": "already have 2 requests",
                "global cap": "swamped", "redis away": "cannot take requests right now"}[refusal]
    assert re.search(expected, str(error.value)) and error.value.retry_after >= 1

    await reply_privately(refused, error.value)  # type: ignore[arg-type]  # what the bot's command tree does with it
    assert refused.response.public == [] and len(refused.response.private) == 1
    assert re.search(expected, refused.response.private[0] or "")
    assert (len(channel.messages), len(jobs.submitted), len(await store.jobs.open_jobs())) == before


async def test_a_broker_away_at_the_front_door_leaves_the_job_to_the_reconciler(
        wiring: Wiring, jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel, clock: Clock) -> None:
    jobs.down = True
    interaction = make_interaction()
    await ask(interaction)  # accepted and answered all the same
    [record] = await store.jobs.open_jobs()
    assert record.status == "accepted" and not jobs.submitted and len(interaction.response.public) == 1

    jobs.down = False
    await wiring.reconciler.pass_once()  # the front door's grace: not the reconciler's to submit yet
    assert not jobs.submitted
    clock.advance(11)
    await wiring.reconciler.pass_once()
    assert [j.job_id for j in jobs.submitted] == [record.job_id]
    assert len(channel.posts) == 1 and channel.statuses[0].deleted


async def test_a_first_status_discord_refused_is_sent_by_a_later_pass_and_the_result_follows(
        wiring: Wiring, jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel, clock: Clock, limits: Limits) -> None:
    jobs.hold = True
    interaction = make_interaction()
    interaction.response.fail = True  # Discord answers 503 to the interaction's response
    await ask(interaction)  # no error for the member: the job is taken all the same
    [record] = await store.jobs.open_jobs()
    assert record.status == "queued" and len(jobs.submitted) == 1 and channel.messages == []

    await wiring.reconciler.pass_once()  # the front door may still be sending it: wait
    assert channel.messages == []
    clock.advance(11)
    await wiring.reconciler.pass_once()
    [status] = channel.statuses
    assert (status.content or "").startswith("⏳ Queued: number 1") and status.custom_ids

    jobs.release()
    await wiring.reconciler.pass_once()
    assert len(channel.posts) == 1 and status.deleted and await limits.in_flight() == 0
    await wiring.reconciler.pass_once()
    assert len(channel.posts) == 1


@pytest.mark.parametrize("settings", [{"queue_cap": 20, "user_cooldown_s": 0}], indirect=True)
async def test_places_in_line_of_a_burst_follow_the_order_of_submission(
        wiring: Wiring, jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction,
        settle: Settle) -> None:
    jobs.hold = True
    await asyncio.gather(*(ask(make_interaction(user_id=100 + i)) for i in range(8)))
    records = [await store.jobs.get(job.job_id) for job in jobs.submitted]
    told = [place(r.status_text) for r in records if r is not None]
    assert told == list(range(1, 9))  # strictly increasing, in the order the queue got them

    await wiring.reconciler.pass_once()  # now from the broker's own queue
    records = [await store.jobs.get(job.job_id) for job in jobs.submitted]
    assert [place(r.status_text) for r in records if r is not None] == list(range(1, 9))
    jobs.release()
    await settle()


async def test_a_job_that_is_posted_while_its_first_status_is_on_its_way_ends_with_done_not_queued(
        wiring: Wiring, jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel) -> None:
    interaction = make_interaction()
    answer = interaction.response.send_message

    async def slow_answer(content: str | None = None, **kwargs: object) -> object:
        sent = await answer(content, **kwargs)
        await wiring.reconciler.pass_once()  # a fast worker: the result is posted before the status is on record
        return sent

    interaction.response.send_message = slow_answer  # type: ignore[method-assign, assignment]
    await ask(interaction)
    [record] = [await store.jobs.get(job.job_id) for job in jobs.submitted]
    assert record is not None and record.status == "posted" and len(channel.posts) == 1
    [status] = channel.statuses
    assert status.deleted
