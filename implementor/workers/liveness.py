"""Worker liveness: which worker holds which job, and whether that worker still beats.

A worker SIGKILLed (or a machine gone) leaves its jobs unacknowledged in Redis until the visibility
timeout (660 s by default) hands them out again. To answer those jobs within about a minute, each
worker says two things in Redis, and the bot's reconciler reads them in its snapshot:

    implementor:worker:<name>   "<time> <processes>", set every HEARTBEAT_S seconds, expiring after
                                TTL_S: "I am alive, with this many pool processes running jobs"
    implementor:holder:<job>    <name>, written by the worker's main process as it receives the job
    implementor:queue:<queue>   a sorted set of the workers consuming <queue> (score: their last beat),
                                so that `live_workers` counts the processes of those still beating

A job that a worker has taken (or started) whose holder no longer beats is orphaned: the reconciler
submits it again under its id (the ledger keeps one answer, and the original message, redelivered
after the visibility timeout, finds the job done). `release` first removes the dead holder, so the
same job is not resubmitted pass after pass while the new copy waits for a worker.

Why a heartbeat key and not Celery's own means:
- `inspect().active()/reserved()` is a broadcast whose replies are collected for a fixed timeout on
  every pass; a live worker slow to answer (its main process busy, a slow network) would read as
  dead, and the bot would wait that timeout each second;
- Celery's worker-heartbeat events need an event receiver running in the bot for ever, keeping
  state that a bot restart loses, and still do not say which worker took which job.
A key with a TTL is state in Redis that survives a bot restart, costs one write per worker every
HEARTBEAT_S, is read in the snapshot's own round trip, and names the holder of every taken job. A
worker has to miss three beats in a row to be taken for dead; if a live one ever does (Redis away
for that long), its jobs run twice and are answered once.

The beat runs in a daemon thread of the worker's main process, which also receives every job
(prefetched ones included), so a job sitting in a taken batch is covered as well as a running one.
The embedded default (one process, no broker) needs none of this.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from celery import Celery, signals

log = logging.getLogger(__name__)

WORKER_KEY = "implementor:worker:{}"
HOLDER_KEY = "implementor:holder:{}"
QUEUE_KEY = "implementor:queue:{}"
HEARTBEAT_S = 5.0
TTL_S = 15  # three missed beats: a worker this quiet is gone
FORGET_S = 3600  # a name that has not beaten for this long leaves its queues' sets (a restarted worker is new)
# KEYS: holder; ARGV: the dead worker's name. Only that worker's claim is removed: a new holder stays.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else (None if value is None else str(value))


def worker_name(hostname: str) -> str:
    """The node name and the main process's id: two workers started with one `-n` still differ."""
    return f"{hostname}/{os.getpid()}"


class Heartbeat:
    """One worker's beat: a daemon thread that keeps `implementor:worker:<name>` alive, and the worker
    named in the sets of the queues it consumes."""

    def __init__(self, client: Any, name: str, interval_s: float = HEARTBEAT_S, ttl_s: int = TTL_S,
                 queues: Sequence[str] = (), processes: Callable[[], int] = lambda: 1) -> None:
        self.client, self.name, self.interval_s, self.ttl_s = client, name, interval_s, ttl_s
        self.queues, self.processes = list(queues), processes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _processes(self) -> int:
        try:
            return max(1, int(self.processes()))  # an autoscaled pool grows and shrinks
        except Exception:  # noqa: BLE001 - a pool not started yet (or gone): it is one worker still
            return 1

    def beat(self) -> None:
        now = time.time()
        pipe = self.client.pipeline(transaction=False)  # one round trip a beat
        pipe.set(WORKER_KEY.format(self.name), f"{now:.3f} {self._processes()}", ex=self.ttl_s)
        for queue in self.queues:
            key = QUEUE_KEY.format(queue)
            pipe.zadd(key, {self.name: now})
            pipe.zremrangebyscore(key, "-inf", now - FORGET_S)
            pipe.expire(key, FORGET_S)
        pipe.execute()

    def start(self) -> None:
        if self._thread is not None:
            return
        self.beat()  # alive before the first job arrives, or the job would look orphaned at once
        self._thread = threading.Thread(target=self._run, name="implementor-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.beat()
            except Exception as exc:  # noqa: BLE001 - Redis away for a moment: the next beat tries again
                log.warning("could not send the worker heartbeat (%s); retrying in %.0f s", exc, self.interval_s)

    def stop(self) -> None:
        """Stop beating; the key expires on its own (deleting it would orphan jobs still finishing)."""
        self._stop.set()

    def hold(self, job_id: str, ttl_s: int) -> None:
        """Record that this worker has taken `job_id`."""
        self.client.set(HOLDER_KEY.format(job_id), self.name, ex=ttl_s)


def watch(app: Celery, client: Any, holder_ttl_s: int) -> None:
    """Make a worker of `app` beat, and name itself as the holder of each job it receives.

    Connected to Celery's signals, which fire in the worker's main process; other apps' workers in
    the same process (tests) are left alone.
    """
    beats: dict[str, Heartbeat] = {}

    def beat_for(consumer: Any) -> Heartbeat | None:
        if getattr(consumer, "app", None) is not app:
            return None
        name = worker_name(consumer.hostname)
        if name not in beats:  # the queues it consumes (`-Q`), selected before the consumer starts
            beats[name] = Heartbeat(client, name, queues=sorted(consumer.app.amqp.queues.consume_from),
                                    processes=lambda: consumer.pool.num_processes)
            beats[name].start()
        return beats[name]

    def on_ready(sender: Any = None, **_: Any) -> None:
        beat_for(sender)

    def on_received(sender: Any = None, request: Any = None, **_: Any) -> None:
        heartbeat = beat_for(sender)
        if heartbeat is None or request is None:
            return
        try:
            heartbeat.hold(request.id, holder_ttl_s)
        except Exception as exc:  # noqa: BLE001 - without it the job falls back on the visibility timeout
            log.warning("could not record job %s as held here (%s)", request.id, exc)

    def on_shutdown(**_: Any) -> None:
        for heartbeat in beats.values():
            heartbeat.stop()

    # weak=False: these closures are referenced nowhere else, and a weak receiver would be collected.
    signals.worker_ready.connect(on_ready, weak=False)
    signals.task_received.connect(on_received, weak=False)
    signals.worker_shutdown.connect(on_shutdown, weak=False)


def holders(client: Any, job_ids: Sequence[str]) -> dict[str, tuple[str, bool]]:
    """For each job with a recorded holder: (the holder's name, whether it still beats)."""
    if not job_ids:
        return {}
    names = [_text(v) for v in client.mget([HOLDER_KEY.format(j) for j in job_ids])]
    workers = sorted({n for n in names if n})
    alive = dict(zip(workers, (bool(v) for v in client.mget([WORKER_KEY.format(w) for w in workers])), strict=True)) \
        if workers else {}
    return {job_id: (name, alive[name]) for job_id, name in zip(job_ids, names, strict=True) if name}


def live_workers(client: Any, queue: str) -> int:
    """How many worker processes that still beat serve `queue`: each live worker's pool processes, which
    run a batch each at once (two round trips: the queue's set of workers, then their beats)."""
    names = [n for n in map(_text, client.zrange(QUEUE_KEY.format(queue), 0, -1)) if n]
    beats = [_text(v) for v in client.mget([WORKER_KEY.format(n) for n in names])] if names else []
    return sum(_processes_in(beat) for beat in beats if beat)


def _processes_in(beat: str) -> int:
    """The pool processes a beat names ("<time> <processes>"); a beat that names none is one worker's."""
    parts = beat.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 1


def release(client: Any, job_id: str, worker: str) -> bool:
    """Forget that the dead `worker` held `job_id` (before it is submitted again); True if it did."""
    return bool(client.eval(_RELEASE, 1, HOLDER_KEY.format(job_id), worker))
