"""Honest waits on a real stack: the bot's first estimate for each of ten queued jobs against the wait each
really had (a redis-server, one worker process, the bot against the fake Discord API). The estimate
comes from the job times the worker measured and the workers serving.

A member reads whole seconds ("about 1 s"), so an estimate passes within a factor of two of the wait,
or within a second of it: the tiny test models answer in well under a second.
`IMPLEMENTOR_WAITS_BUNDLED=1` runs the same with the bundled models, where a job takes seconds.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from typing import Any

import pytest
from fault_stack import record, wait_for

pytestmark = pytest.mark.slow
BUNDLED = bool(os.environ.get("IMPLEMENTOR_WAITS_BUNDLED"))  # read before the tests' own settings are isolated


def first_estimate(stack: Any, token: str) -> float | None:
    """The seconds the first status promised ("about N s"), as the member read it."""
    answer = next((r.json for r in stack.fake.requests if r.path.endswith(f"/{token}/callback") and r.json), None)
    found = re.search(r"about (\d+) s", (answer or {}).get("data", {}).get("content", ""))
    return float(found.group(1)) if found else None


def fair(estimate: float | None, waited: float) -> bool:
    return estimate is not None and (0.5 <= estimate / max(waited, 1e-3) <= 2.0 or abs(estimate - waited) <= 1.0)


async def test_ten_queued_jobs_are_each_told_a_wait_within_a_factor_of_two(make_stack: Any,
                                                                         tiny_env: dict[str, str]) -> None:
    # Batches of 4 on one worker process; 32 drafts a job, so that a batch takes seconds even on the tiny models
    # (a member reads whole seconds).
    stack = make_stack(IMPLEMENTOR_CANDIDATES="32")
    bundled = BUNDLED
    if bundled:  # the models that ship: drop the tiny ones' paths, and the drafts' count back to the card's
        stack.env = {k: v for k, v in stack.env.items() if k not in tiny_env and k != "IMPLEMENTOR_CANDIDATES"}
    stack.start_worker()
    await stack.start_bot()
    # A colleague on the team first: a server's very first request would hire one (a CV and a face on top of
    # the reply), a one-off that would stand in the measured job times for every reply after it.
    await stack.fake.interaction("introduce", [], user_id="799")
    await wait_for(lambda: any(m["content"].startswith("<@799>") for m in stack.fake.results()),
                   600 if bundled else 120, "the colleague to be hired")
    warm = [await stack.ask(800 + i) for i in range(4)]  # the worker measures a batch's time first
    jobs = await wait_for(lambda: [stack.job_of(t) for t in warm] if all(map(stack.job_of, warm)) else None,
                          20, "the warm-up to be accepted")
    await stack.answered_once(jobs, timeout=600 if bundled else 120)
    await asyncio.sleep(1.0)  # a reconciler pass reads the measured times and the workers
    asked: dict[str, float] = {}
    for i in range(10):
        token = await stack.ask(810 + i)
        asked[token] = time.monotonic()
    tokens = list(asked)
    ids = await wait_for(lambda: [stack.job_of(t) for t in tokens] if all(map(stack.job_of, tokens)) else None,
                         20, "every request to be accepted")
    answered: dict[str, float] = {}
    deadline = time.monotonic() + (900 if bundled else 180)
    while len(answered) < len(tokens) and time.monotonic() < deadline:
        for token, job in zip(tokens, ids, strict=True):
            if token not in answered and stack.results_for(job):
                answered[token] = time.monotonic()
        await asyncio.sleep(0.05)
    assert len(answered) == len(tokens), "every job answered"
    figures = [(first_estimate(stack, t), round(answered[t] - asked[t], 1)) for t in tokens]
    ratios = [round(estimate / waited, 2) for estimate, waited in figures if estimate and waited]
    record(f"ten queued jobs ({'bundled' if bundled else 'tiny'} models), the first estimate against the wait (s)",
           estimate_and_wait=figures, ratios=ratios)
    assert all(fair(estimate, waited) for estimate, waited in figures), figures
