"""Honest waits: estimates from measured job times and the workers serving, a progress bar while a job runs,
and with no worker alive a status that says so, a degraded health, and after a while a private refusal."""

from __future__ import annotations

import pytest
from bot_fake_client import Ask, FakeChannel, MakeInteraction
from bot_fake_queue import Clock, FakeJobs

from implementor.bot.app import Wiring
from implementor.contracts.errors import RateLimited


async def test_the_estimate_comes_from_measured_job_times_and_the_workers_serving(
        wiring: Wiring, jobs: FakeJobs, ask: Ask, make_interaction: MakeInteraction, channel: FakeChannel) -> None:
    jobs.hold, jobs.workers, jobs.seconds = True, 2, {"project": 12.0}
    for member in (41, 42, 43):
        await ask(make_interaction(user_id=member))
    await wiring.reconciler.pass_once()
    capacity = wiring.reconciler.capacity
    assert capacity.workers == 2 and capacity.job_seconds["project"] == 12.0
    batch = capacity.batch_size  # jobs a worker drafts together; two workers drain two batches a job time
    assert await capacity.estimate(1) == 12.0 and await capacity.estimate(2 * batch + 1) == 24.0
    third = channel.statuses[2]
    assert " · 2 workers serving" in (third.content or "") and "number 3 in the queue" in (third.content or "")


async def test_a_running_job_shows_its_stage_and_a_progress_bar(
        wiring: Wiring, jobs: FakeJobs, ask: Ask, make_interaction: MakeInteraction, channel: FakeChannel,
        clock: Clock) -> None:
    jobs.hold = True
    await ask(make_interaction())
    jobs.start(jobs.submitted[0].job_id)
    jobs.running_stage, jobs.running_progress = "writing drafts", 0.4
    await wiring.reconciler.pass_once()
    [status] = channel.statuses
    assert status.content == "✍️ Writing drafts ▰▰▰▰▱▱▱▱▱▱ 40%"
    jobs.running_progress = 0.5
    await wiring.reconciler.pass_once()
    assert status.content.endswith("40%")  # the bar moves at most every few seconds
    clock.advance(3.5)
    await wiring.reconciler.pass_once()
    assert status.content.endswith("50%")
    jobs.running_stage, jobs.running_progress = "judging drafts", None
    await wiring.reconciler.pass_once()  # a new stage shows at once
    assert status.content == "⚖️ Judging the drafts and picking the best..."


@pytest.mark.parametrize("settings", [{"no_worker_refuse_s": 120}], indirect=True)
async def test_with_no_worker_the_status_says_so_then_new_requests_are_refused(
        wiring: Wiring, jobs: FakeJobs, ask: Ask, make_interaction: MakeInteraction, channel: FakeChannel,
        clock: Clock) -> None:
    jobs.hold, jobs.workers = True, 0
    await ask(make_interaction(user_id=41))
    await wiring.reconciler.pass_once()
    [status] = channel.statuses
    assert "No worker is running right now, so I cannot say when" in (status.content or "")
    assert "about" not in (status.content or "")  # no guess
    assert wiring.reconciler.capacity.no_worker_since is not None
    clock.advance(60)
    await ask(make_interaction(user_id=42))  # still within the setting: it waits in line
    clock.advance(61)
    with pytest.raises(RateLimited, match="No worker has been running"):
        await ask(make_interaction(user_id=43))
    jobs.workers = 1  # a worker starts: requests are taken again
    await wiring.reconciler.pass_once()
    await ask(make_interaction(user_id=43))
    assert len(jobs.submitted) == 3
