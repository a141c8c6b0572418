"""The job ledger: how many times a job was started, and the one result it produced.

Celery with `acks_late` delivers a job at least once; the ledger turns that into "a result is
recorded once". Before running a job a worker counts an attempt; after running it, it records the
result only if none is recorded yet (first writer wins) and reports whichever is recorded. A job
that keeps killing its worker stops after `max_attempts` with an error result instead of looping.

Redis holds the ledger in the stack (shared by all workers, surviving restarts); the embedded
default keeps it in memory.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

_ATTEMPTS = "implementor:attempts:{}"
_RESULT = "implementor:result:{}"


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


class RedisLedger:
    def __init__(self, client: Any, ttl_s: int) -> None:
        self.client, self.ttl_s = client, ttl_s

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


class MemoryLedger:
    """The same contract in one process, for the embedded default and unit tests."""

    def __init__(self) -> None:
        self._attempts: dict[str, int] = {}
        self._results: dict[str, str] = {}
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
