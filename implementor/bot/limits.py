"""Request limits, held in Redis so they survive bot restarts and bind every bot process alike.

Three limits, checked and taken together by one Lua script (atomic: two bot processes can never both
take the last slot):
- a cooldown per member between two requests;
- a maximum number of jobs one member may have queued or running;
- a cap on jobs queued or running across all servers.

A refusal is a `implementor.contracts.errors.RateLimited` that says when to try again. A job's slots are given
back when it finishes (or fails, or is cancelled). Every key expires, so a crashed bot cannot hold
slots for ever.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from implementor.contracts.errors import RateLimited

# KEYS: cooldown, member's in-flight set, global in-flight set
# ARGV: job id, cooldown ms, max per member, global cap, now ms, slot lifetime ms, check the cooldown (1/0)
_TAKE = """
if ARGV[7] == '1' then
  local cooldown = redis.call('PTTL', KEYS[1])
  if cooldown > 0 then return {'cooldown', cooldown} end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[5])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {'member', tonumber(oldest[2]) - tonumber(ARGV[5])}
end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then return {'global', 0} end
local expires = tonumber(ARGV[5]) + tonumber(ARGV[6])
redis.call('ZADD', KEYS[2], expires, ARGV[1])
redis.call('ZADD', KEYS[3], expires, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
if ARGV[7] == '1' and tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return {'ok', 0}
"""


@dataclass(frozen=True)
class LimitConfig:
    cooldown_s: int
    max_in_flight: int
    queue_cap: int
    # Longer than a job may wait and run (the bot gives every slot back when its job ends); a backstop
    # for a slot whose give-back was lost with the whole bot store.
    slot_lifetime_s: int = 86400


class Limits:
    def __init__(self, redis: Any, config: LimitConfig, prefix: str = "implementor:limits") -> None:
        self.redis, self.config, self.prefix = redis, config, prefix
        self._take = redis.register_script(_TAKE)

    def _keys(self, user_id: int) -> list[str]:
        return [f"{self.prefix}:cooldown:{user_id}", f"{self.prefix}:inflight:{user_id}", f"{self.prefix}:inflight"]

    async def take(self, user_id: int, job_id: str, cooldown: bool = True, cooldown_s: int | None = None) -> None:
        """Take a slot for a job, or raise RateLimited with a friendly message and a retry time.

        `cooldown=False` skips the cooldown and starts none; the member's in-flight cap and the global
        queue cap still apply. `cooldown_s`: the server's own cooldown (`/settings`), else the bot's.
        """
        now_ms = int((await self.redis.time())[0] * 1000)
        c = self.config
        wait_s = c.cooldown_s if cooldown_s is None else cooldown_s
        verdict, value = await self._take(keys=self._keys(user_id), args=[
            job_id, wait_s * 1000, c.max_in_flight, c.queue_cap, now_ms, c.slot_lifetime_s * 1000,
            "1" if cooldown else "0"])
        verdict = verdict.decode() if isinstance(verdict, bytes) else verdict
        if verdict == "ok":
            return
        seconds = max(1, math.ceil(int(value) / 1000))
        if verdict == "cooldown":
            raise RateLimited(f"Give me a moment: you can ask again in {seconds} s.", seconds, "cooldown")
        if verdict == "member":
            raise RateLimited(f"You already have {c.max_in_flight} requests on the way; wait for one to finish.",
                              seconds, "member")
        raise RateLimited("The team is swamped right now; try again in a minute.", 60, "queue_full")

    async def give_back(self, user_id: int, job_id: str) -> None:
        """Return a finished job's slots (the cooldown stays)."""
        _, member, everyone = self._keys(user_id)
        await self.redis.zrem(member, job_id)
        await self.redis.zrem(everyone, job_id)

    async def in_flight(self) -> int:
        return int(await self.redis.zcard(self._keys(0)[2]))
