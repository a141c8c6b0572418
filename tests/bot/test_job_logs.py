"""Log lines about a job carry its id: as a `job_id` field in the stack's JSON lines (implementor/config/log_setup.py),
from the bot's front door and its reconciler alike."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from bot_fake_client import Ask, MakeInteraction
from bot_fake_queue import Clock, FakeJobs

from implementor.bot.app import Wiring
from implementor.config.log_setup import job_context, setup_logging
from implementor.store.database import Store


@pytest.fixture
def json_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    yield capsys
    setup_logging("INFO", "text")


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]


def json_to_stderr() -> None:
    # Here, not in the fixture: pytest swaps the captured stderr between a test's set-up and its call.
    setup_logging("INFO", "json")


def test_a_line_inside_a_job_context_names_the_job_and_others_do_not(json_lines: pytest.CaptureFixture[str]) -> None:
    json_to_stderr()
    log = logging.getLogger("bot.test")
    log.info("before")
    with job_context("job-1"):
        log.warning("about it")
    with job_context(["a", "b"]):
        log.info("a batch")
    before, about, batch = lines(json_lines)
    assert "job_id" not in before and about["job_id"] == "job-1" and batch["job_id"] == "a,b"
    assert about["level"] == "WARNING" and about["logger"] == "bot.test" and about["message"] == "about it"


async def test_the_front_door_and_the_reconciler_name_the_job_on_every_line(
        json_lines: pytest.CaptureFixture[str], wiring: Wiring, jobs: FakeJobs, store: Store, ask: Ask,
        make_interaction: MakeInteraction, clock: Clock) -> None:
    json_to_stderr()
    jobs.down = True
    await ask(make_interaction())  # the front door logs that it could not queue the job
    [record] = await store.jobs.open_jobs()
    await wiring.reconciler.pass_once()  # so does the reconciler, while the broker is away
    jobs.down = False
    clock.advance(11)
    await wiring.reconciler.pass_once()
    about = [line for line in lines(json_lines) if record.job_id in str(line["message"])]
    assert about and all(line.get("job_id") == record.job_id for line in about), about
