"""The job ledger: how many times a job was started, the one result it produced, and how long jobs take.

Celery with `acks_late` delivers a job at least once; the ledger turns that into "a result is
recorded once". Just before the models start on a job (its batch's models loaded, its drafting
next: `admission.py`) a worker admits it: in one atomic step, a job that already has a result is
not run again, and any other counts one more attempt. After running it, the worker records the
result only if none is recorded yet (first writer wins) and reports whichever is recorded. A job
that keeps killing its worker stops after `max_attempts` with an error result.

Withdrawing a job (the member pressed Cancel) records a "cancelled" result, atomically and only if
no worker has admitted the job yet: the withdrawal and the admission cannot both win, so a
cancelled job is never run, and a job whose drafting started is reported as too late to cancel.
A job waiting in the queue, in a worker's prefetched batch or behind its models loading has not
been admitted, so it can still be withdrawn.

The ledger also keeps the latest `DURATIONS_KEPT` durations of each kind of job, from admission to
result (the workers add a finished batch's at once), for the bot's estimate of a wait.

Redis holds the ledger in the stack (shared by all workers and the bot, surviving restarts); the
embedded default keeps it in memory.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

_ATTEMPTS = "implementor:attempts:{}"
_RESULT = "implementor:result:{}"
_DURATIONS = "implementor:durations:{}"  # a kind's latest job durations in seconds, newest first
DURATIONS_KEPT = 20  # enough for a steady median, few enough to follow a change of models or hardware
# KEYS: attempts, result; ARGV: ttl. A recorded result wins; else one more attempt. -> {result or false, attempts}
_ADMIT = """
local recorded = redis.call('GET', KEYS[2])
if recorded then return {recorded, tonumber(redis.call('GET', KEYS[1]) or '0')} end
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return {false, n}
"""
# KEYS: attempts, result; ARGV: result json, ttl. Only a job nobody has admitted can be withdrawn.
_WITHDRAW = """
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return 1
"""


class Ledger(Protocol):
    def begin(self, job_id: str) -> int:
        """Count one more attempt at a job and return the count (1 the first time)."""
        ...

    def result(self, job_id: str) -> str | None:
        """The recorded result (JSON), if any."""
        ...

    def record(self, job_id: str, result_json: str) -> str:
        """Record a result unless one exists; return the recorded one (the first)."""
        ...

    def admit(self, job_id: str) -> tuple[str | None, int]:
        """Atomically: the recorded result if there is one, else count an attempt and return (None, count)."""
        ...

    def withdraw(self, job_id: str, result_json: str) -> bool:
        """Record `result_json` (a cancellation) if no worker has admitted the job; True if it was withdrawn."""
        ...

    def add_durations(self, kind: str, seconds: Sequence[float]) -> None:
        """Add a batch's job durations (admission to result) to the latest of `kind`; the oldest drop out."""
        ...

    def durations(self, kind: str) -> list[float]:
        """The latest durations of `kind` in seconds, newest first (at most `DURATIONS_KEPT`)."""
        ...


class RedisLedger:
    def __init__(self, client: Any, ttl_s: int) -> None:
        self.client, self.ttl_s = client, ttl_s
        self._admit = client.register_script(_ADMIT)
        self._withdraw = client.register_script(_WITHDRAW)

    @classmethod
    def from_url(cls, url: str, ttl_s: int) -> RedisLedger:
        import redis

        return cls(redis.Redis.from_url(url, decode_responses=True), ttl_s)

    def begin(self, job_id: str) -> int:
        key = _ATTEMPTS.format(job_id)
        pipe = self.client.pipeline()
        pipe.incr(key)
        pipe.expire(key, self.ttl_s)
        return int(pipe.execute()[0])

    def result(self, job_id: str) -> str | None:
        value = self.client.get(_RESULT.format(job_id))
        return None if value is None else str(value)

    def record(self, job_id: str, result_json: str) -> str:
        key = _RESULT.format(job_id)
        if self.client.set(key, result_json, nx=True, ex=self.ttl_s):
            return result_json
        return str(self.client.get(key))

    def admit(self, job_id: str) -> tuple[str | None, int]:
        recorded, attempts = self._admit(keys=[_ATTEMPTS.format(job_id), _RESULT.format(job_id)], args=[self.ttl_s])
        if isinstance(recorded, bytes):
            recorded = recorded.decode()
        return (str(recorded) if recorded else None), int(attempts)

    def withdraw(self, job_id: str, result_json: str) -> bool:
        keys = [_ATTEMPTS.format(job_id), _RESULT.format(job_id)]
        return bool(self._withdraw(keys=keys, args=[result_json, self.ttl_s]))

    def add_durations(self, kind: str, seconds: Sequence[float]) -> None:
        if not seconds:
            return
        key = _DURATIONS.format(kind)
        pipe = self.client.pipeline()  # one round trip per batch
        pipe.lpush(key, *(f"{s:.3f}" for s in seconds))
        pipe.ltrim(key, 0, DURATIONS_KEPT - 1)
        pipe.expire(key, self.ttl_s)  # a stack idle that long has other models or hardware by then
        pipe.execute()

    def durations(self, kind: str) -> list[float]:
        return [float(v) for v in self.client.lrange(_DURATIONS.format(kind), 0, DURATIONS_KEPT - 1)]


class MemoryLedger:
    """The same contract in one process, for the embedded default and unit tests."""

    def __init__(self) -> None:
        self._attempts: dict[str, int] = {}
        self._results: dict[str, str] = {}
        self._durations: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def begin(self, job_id: str) -> int:
        with self._lock:
            self._attempts[job_id] = self._attempts.get(job_id, 0) + 1
            return self._attempts[job_id]

    def result(self, job_id: str) -> str | None:
        return self._results.get(job_id)

    def record(self, job_id: str, result_json: str) -> str:
        with self._lock:
            return self._results.setdefault(job_id, result_json)

    def admit(self, job_id: str) -> tuple[str | None, int]:
        with self._lock:
            if job_id in self._results:
                return self._results[job_id], self._attempts.get(job_id, 0)
            self._attempts[job_id] = self._attempts.get(job_id, 0) + 1
            return None, self._attempts[job_id]

    def withdraw(self, job_id: str, result_json: str) -> bool:
        with self._lock:
            if job_id in self._attempts or job_id in self._results:
                return False
            self._results[job_id] = result_json
            return True

    def add_durations(self, kind: str, seconds: Sequence[float]) -> None:
        with self._lock:
            self._durations.setdefault(kind, deque(maxlen=DURATIONS_KEPT)).extendleft(seconds)

    def durations(self, kind: str) -> list[float]:
        with self._lock:
            return list(self._durations.get(kind, ()))
