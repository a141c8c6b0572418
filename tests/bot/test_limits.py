"""Limits held in Redis (fakeredis with Lua): the cooldown, the caps, a restart, a refusal that takes
nothing, Regenerate without the cooldown, and an unreachable Redis."""

from __future__ import annotations

import fakeredis
import pytest
import redis

from implementor.bot.limits import LimitConfig, Limits
from implementor.contracts.errors import RateLimited

CONFIG = LimitConfig(cooldown_s=30, max_in_flight=2, queue_cap=3)


def limits(server: fakeredis.FakeServer, config: LimitConfig = CONFIG) -> Limits:
    return Limits(fakeredis.FakeAsyncRedis(server=server), config)


async def test_a_member_waits_out_the_cooldown() -> None:
    server = fakeredis.FakeServer()
    first = limits(server)
    await first.take(1, "job-0001")
    with pytest.raises(RateLimited, match=r"again in (29|30) s") as refused:
        await first.take(1, "job-0002")
    assert 29 <= refused.value.retry_after <= 30
    await first.take(2, "job-0003")  # another member is not held up


async def test_jobs_in_flight_per_member_and_in_all() -> None:
    server = fakeredis.FakeServer()
    no_cooldown = limits(server, LimitConfig(cooldown_s=0, max_in_flight=2, queue_cap=3))
    await no_cooldown.take(1, "job-a-001")
    await no_cooldown.take(1, "job-a-002")
    with pytest.raises(RateLimited, match="already have 2 requests"):
        await no_cooldown.take(1, "job-a-003")
    await no_cooldown.take(2, "job-b-001")
    with pytest.raises(RateLimited, match="swamped"):
        await no_cooldown.take(3, "job-c-001")  # the global cap of 3 is reached
    await no_cooldown.give_back(1, "job-a-001")
    await no_cooldown.take(3, "job-c-001")
    assert await no_cooldown.in_flight() == 3


async def test_limits_survive_a_restart() -> None:
    server = fakeredis.FakeServer()
    await limits(server).take(1, "job-0001")
    restarted = limits(server)  # a new bot process, the same Redis
    with pytest.raises(RateLimited, match="again in"):
        await restarted.take(1, "job-0002")
    assert await restarted.in_flight() == 1


async def test_a_refused_request_takes_nothing() -> None:
    server = fakeredis.FakeServer()
    capped = limits(server, LimitConfig(cooldown_s=30, max_in_flight=1, queue_cap=1))
    await capped.take(1, "job-0001")
    with pytest.raises(RateLimited):
        await capped.take(2, "job-0002")
    assert await capped.in_flight() == 1
    await capped.give_back(1, "job-0001")
    await capped.take(2, "job-0002")  # member 2 was not put on cooldown by the refusal


async def test_without_the_cooldown_a_request_neither_checks_nor_starts_one() -> None:
    server = fakeredis.FakeServer()
    regenerate = limits(server)
    await regenerate.take(1, "job-0001")
    await regenerate.take(1, "job-0002", cooldown=False)  # Regenerate right after: the cooldown does not apply
    with pytest.raises(RateLimited, match="already have 2 requests"):
        await regenerate.take(1, "job-0003", cooldown=False)  # the member's cap still does
    await regenerate.give_back(1, "job-0001")
    await regenerate.give_back(1, "job-0002")

    fresh = limits(server)
    await fresh.take(2, "job-0004", cooldown=False)
    await fresh.take(2, "job-0005")  # the first started no cooldown for member 2


async def test_an_unreachable_redis_is_an_error_not_a_refusal() -> None:
    server = fakeredis.FakeServer()
    away = limits(server)
    server.connected = False
    with pytest.raises(redis.ConnectionError):  # the runner turns it into a kind, private refusal
        await away.take(1, "job-0001")
