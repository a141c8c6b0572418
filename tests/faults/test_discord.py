"""Discord refusing (429s) and a burst of members: answered once, refusals private, places in line honest."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
from fake_discord import APPLICATION_ID
from fault_stack import record, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


async def test_five_429s_on_the_first_message_still_end_in_one_answer(make_stack: Any) -> None:
    stack = make_stack()
    stack.start_worker()
    await stack.start_bot()
    stack.fake.rate_limit_next("/interactions/", times=5)  # the first answer never gets through
    asked = time.monotonic()
    token = await stack.ask(600)
    # Discord forgets the interaction; the job was written down and queued all the same, so its result
    # arrives in the channel instead. Its status goes there too, unless the result was ready first (on a fast
    # machine the job can finish before the reconciler's grace for the front door is over), and it is deleted
    # once the result is out: the result is the one message the request leaves.
    results = await wait_for(lambda: stack.fake.results(), 120, "the result in the channel")
    await asyncio.sleep(2)
    assert len(stack.fake.results()) == 1 and stack.fake.interactions[token]["original"] is None
    job = stack.fake.job_of(results[0])
    assert job is not None
    await wait_for(lambda: [m["id"] for m in stack.fake.messages()] == [results[0]["id"]], 20,
                   "the status to go, leaving the result alone")
    await wait_for(lambda: stack.slots_in_flight() == 0, 20, "the slot back")
    record("five 429s in a row on the first message", lost=0, posted_twice=0,
           seconds_to_answer=round(time.monotonic() - asked, 1))


async def test_a_429_storm_on_follow_ups_posts_each_result_once(make_stack: Any) -> None:
    stack = make_stack()
    stack.start_worker()
    await stack.start_bot()
    tokens = [await stack.ask(700 + i) for i in range(3)]
    jobs = await wait_for(lambda: [stack.job_of(t) for t in tokens] if all(map(stack.job_of, tokens)) else None,
                          20, "every request to be accepted")
    stack.fake.rate_limit_next(f"/webhooks/{APPLICATION_ID}/", times=30)  # status edits and results alike
    stormed = time.monotonic()
    took = await stack.answered_once(jobs, timeout=180)
    limited = [r for r in stack.fake.requests if r.path.startswith("/webhooks/") and r.json is None
               and r.method in ("POST", "PATCH")]
    assert len(limited) >= 10  # the storm really hit
    await wait_for(lambda: stack.slots_in_flight() == 0, 20, "every slot back")
    record("a storm of 30 429s on follow-ups", jobs=3, lost=0, posted_twice=0, refused_by_discord=len(limited),
           seconds_to_all_answered=round(time.monotonic() - stormed - 1.5, 1), waited=round(took, 1))


async def test_past_the_interactions_window_a_request_still_leaves_one_message(make_stack: Any) -> None:
    # The interaction's token dies (15 minutes in Discord; at once here): the result goes to the channel, pinging
    # the member who asked, and the status, the interaction's first answer, is deleted through the channel.
    stack = make_stack()
    await stack.start_bot()
    token = await stack.ask(650)
    job = await wait_for(lambda: stack.job_of(token), 20, "the request to be accepted")
    stack.fake.expire(token)
    stack.start_worker()
    await stack.answered_once([job], timeout=120)
    [result] = stack.fake.results()
    # Nobody was hired here: the request hired its colleague, who answered it.
    assert result["content"].startswith("<@650>, ") and "joined the team to answer your request" in result["content"]
    await wait_for(lambda: [m["id"] for m in stack.fake.messages()] == [result["id"]], 20, "the status to go")
    deleted = [r for r in stack.fake.requests if r.method == "DELETE" and r.path.startswith("/channels/")]
    assert deleted, "the status is deleted through the channel once the token is dead"
    record("the token dead before the answer", jobs=1, messages_left=1, lost=0, posted_twice=0)


def first_position(stack: Any, token: str) -> int | None:
    answer = next((r.json for r in stack.fake.requests if r.path.endswith(f"/{token}/callback") and r.json), None)
    found = re.search(r"number (\d+) in the queue", (answer or {}).get("data", {}).get("content", ""))
    return int(found.group(1)) if found else None


async def test_sixty_members_at_once_are_each_answered_once_or_refused_privately(make_stack: Any) -> None:
    stack = make_stack(IMPLEMENTOR_QUEUE_CAP="50", IMPLEMENTOR_USER_MAX_IN_FLIGHT="2")
    stack.start_worker()
    await stack.start_bot()
    started = time.monotonic()
    tokens = [await stack.ask(1000 + i) for i in range(60)]  # one gateway event after another, at once
    await wait_for(lambda: all(stack.job_of(t) or stack.refused(t) for t in tokens), 60, "every first answer")
    accepted = [t for t in tokens if stack.job_of(t)]
    refused = [t for t in tokens if stack.refused(t)]
    assert len(accepted) + len(refused) == 60 and len(accepted) >= 50 and refused
    for token in refused:  # private, and honest about why
        [answer] = [r.json for r in stack.fake.requests if r.path.endswith(f"/{token}/callback")]
        assert answer["data"]["flags"] == 64 and "swamped" in answer["data"]["content"]  # type: ignore[index]
    # One wave: the requests accepted before the first result went out; their places in line, read off
    # the first status each member saw, rise with the order in which they asked.
    first_result = min((m["id"] for m in stack.fake.results()), default=None)
    wave = [t for t in accepted if first_result is None
            or int(stack.fake.interactions[t]["original"]["id"]) < int(first_result)]
    positions = [first_position(stack, t) for t in wave]
    assert len(wave) >= 10 and all(a < b for a, b in zip(positions, positions[1:], strict=False)), positions
    jobs = [stack.job_of(t) for t in accepted]
    took = await stack.answered_once(jobs, timeout=600)  # type: ignore[arg-type]
    await wait_for(lambda: stack.slots_in_flight() == 0, 30, "every slot back")
    record("60 members at once, queue cap 50, one worker", accepted=len(accepted), refused_privately=len(refused),
           lost=0, posted_twice=0, first_wave=len(wave), seconds_to_answer_all=round(time.monotonic() - started, 1),
           waited=round(took, 1))
