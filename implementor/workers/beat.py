"""Celery beat with a leader: any number of `implementor beat` processes, one sending, the others waiting.

Celery allows one scheduler per schedule: two plain beats send every learning cycle twice, and one
beat is a single point of failure. Here two things live in Redis, shared by every beat:
- **the schedule** (RedBeat's store): each entry's last run. Celery marks an entry as run before it
  sends it (`Scheduler.reserve`), so a beat that takes over goes on from where the last leader
  stopped: one cycle per interval, not one more at the takeover and none missed;
- **a lease** (`Lease`, a key set only if absent, with an expiry): the beat holding it is the leader
  and sends; it renews the lease at every tick, and ticks at least `RENEWALS` times per lease. A
  standby ticks too, tries to take the lease, and sends nothing. When the leader dies its lease
  lapses after `beat_lock_timeout_s`, and a standby takes it at its next try (every
  1/`RENEWALS` of the timeout): the schedule is served again within the timeout plus one try.

Why not RedBeat's own lock: its standby waits for the lock inside beat's start signal, blocking, so it
never ticks (no heartbeat for the healthcheck) and retries only every `max_interval`; and a leader
that lost its lock crashes at its next tick. We keep its schedule store and hold the lease ourselves.

Every tick writes a heartbeat to `Settings.beat_health_path` (the time, this beat's role, who leads
and when that lease ends) for `implementor health beat`; beat ticks at least every `MAX_INTERVAL_S`
(`implementor beat` passes it), so a heartbeat older than a few intervals means beat is stuck or gone.
A waiting standby is healthy: it is what makes the leader's death survivable.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import redis
from redbeat.schedulers import RedBeatScheduler, get_redis

log = logging.getLogger(__name__)
MAX_INTERVAL_S = 60  # beat's longest sleep between ticks (Celery's default is 300)
RENEWALS = 5  # ticks per lease: a leader renews it this often, a standby tries to take it this often

# Renew only a lease this process still holds: another beat may have taken it after ours lapsed.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def write_heartbeat(path: Path, **state: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"time": time.time(), **state}), encoding="utf-8")
    tmp.replace(path)


def beat_identity() -> str:
    """Who holds the lease, as the healthcheck and the logs name it: the host (a pod's name), the pid and a
    random part (a restarted container has the same host and pid 1, and must not renew its dead self's lease)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Lease:
    """A leader's lease in Redis: `hold()` renews it if this process holds it, else takes it if free."""

    def __init__(self, client: Any, key: str, timeout_s: float, holder: str) -> None:
        self.client, self.key, self.timeout_s, self.holder = client, key, timeout_s, holder
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @property
    def _ms(self) -> int:
        return max(1, int(self.timeout_s * 1000))

    def hold(self) -> bool:
        """True while this process leads. Redis unreachable: not leading (nothing could be sent anyway)."""
        try:
            if self._renew(keys=[self.key], args=[self.holder, self._ms]):
                return True
            return bool(self.client.set(self.key, self.holder, nx=True, px=self._ms))
        except redis.RedisError as exc:
            log.warning("beat cannot reach Redis to hold its lease: %s", exc)
            return False

    def current(self) -> tuple[str | None, float | None]:
        """The lease's holder and the seconds left on it (None, None: nobody leads)."""
        try:
            holder, ttl_ms = self.client.get(self.key), self.client.pttl(self.key)
        except redis.RedisError:
            return None, None
        return (holder, ttl_ms / 1000) if holder is not None and ttl_ms >= 0 else (None, None)

    def release(self) -> None:
        try:
            self._release(keys=[self.key], args=[self.holder])
        except redis.RedisError as exc:
            log.warning("beat could not release its lease (it lapses by itself): %s", exc)


class LeaderScheduler(RedBeatScheduler):
    """RedBeat's scheduler (the schedule in Redis) that sends only while it holds the leader's lease."""

    def __init__(self, app: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(app, *args, **kwargs)
        key: str = app.redbeat_conf.lock_key
        self.lease = Lease(get_redis(app), key, float(self.lock_timeout), beat_identity())
        # With no lock key RedBeat neither blocks on its lock at start nor extends it per tick: the lease is ours.
        self.lock_key: str | None = None
        self.leading: bool | None = None  # not known before the first tick, which logs the role either way

    @property
    def try_every_s(self) -> float:
        return self.lease.timeout_s / RENEWALS

    def tick(self, *args: Any, **kwargs: Any) -> float:
        leading = self.lease.hold()
        if leading != self.leading:
            log.warning("beat %s %s", self.lease.holder, "leads: it sends the schedule" if leading
                        else "is a standby: it sends nothing until it holds the lease")
            self.leading = leading
        interval = self.try_every_s
        if leading:
            try:
                interval = min(float(super().tick(*args, **kwargs)), interval)
            except redis.RedisError as exc:  # Redis went away mid-tick: wait for it rather than crash
                log.warning("beat could not read its schedule from Redis: %s", exc)
        self._write_heartbeat()
        return interval

    def _write_heartbeat(self) -> None:
        settings = getattr(self.app.conf, "implementor_settings", None)
        if settings is None:
            return
        holder, left_s = self.lease.current()
        state = {"role": "leader" if self.leading else "standby", "me": self.lease.holder,
                 "leader": holder, "lease_left_s": left_s, "lease_s": self.lease.timeout_s}
        try:
            write_heartbeat(settings.beat_health_path, **state)
        except OSError as exc:
            log.warning("could not write beat's heartbeat %s: %s", settings.beat_health_path, exc)

    def close(self) -> None:
        # A leader that stops cleanly hands over at once instead of after the lease's timeout.
        if self.leading:
            self.lease.release()
            self.leading = False
        super().close()
