"""The bot's Prometheus metrics, scraped from its endpoint as Prometheus would, after real traffic through
the wired parts (tests/bot/conftest.py): requests, refusals by reason, jobs open, reconciler lag and
the time to answer."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator

import pytest
from bot_fake_client import Ask, MakeInteraction, Settle
from bot_fake_queue import FakeJobs
from prometheus_client.parser import text_string_to_metric_families

from implementor.bot.app import Wiring
from implementor.contracts.errors import RateLimited


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body) for sample in family.samples}


@pytest.fixture
def endpoint(wiring: Wiring) -> Iterator[int]:
    port = free_port()
    server = wiring.runner.metrics.serve(port, "127.0.0.1")
    yield port
    server.shutdown()


async def test_the_endpoint_counts_requests_refusals_open_jobs_lag_and_time_to_answer(
        endpoint: int, wiring: Wiring, jobs: FakeJobs, ask: Ask, make_interaction: MakeInteraction,
        settle: Settle) -> None:
    jobs.hold = True
    await ask(make_interaction(user_id=42))
    with pytest.raises(RateLimited):
        await ask(make_interaction(user_id=42))  # within the cooldown
    await wiring.reconciler.pass_once()
    held = scrape(endpoint)
    assert held[("implementor_bot_requests_total", (("kind", "project"),))] == 1
    assert held[("implementor_bot_refusals_total", (("reason", "cooldown"),))] == 1
    assert held[("implementor_bot_jobs_open", ())] == 1
    assert 0 <= held[("implementor_bot_reconciler_lag_seconds", ())] < 60

    jobs.release()
    await settle()
    await wiring.reconciler.pass_once()  # the pass that finds none open
    answered = scrape(endpoint)
    assert answered[("implementor_bot_time_to_answer_seconds_count", (("kind", "project"),))] == 1
    assert answered[("implementor_bot_jobs_open", ())] == 0


async def test_every_refusal_reason_is_its_own_series(wiring: Wiring, jobs: FakeJobs, ask: Ask,
                                                      make_interaction: MakeInteraction) -> None:
    jobs.hold = True
    for member in (41, 43, 44):  # the test settings' global cap is 3
        await ask(make_interaction(user_id=member))
    with pytest.raises(RateLimited):
        await ask(make_interaction(user_id=45))
    wiring.runner.closing = True
    with pytest.raises(RateLimited):
        await ask(make_interaction(user_id=46))
    refusals = wiring.runner.metrics.refusals
    assert refusals.labels("queue_full")._value.get() == 1 and refusals.labels("restarting")._value.get() == 1
