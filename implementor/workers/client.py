"""Submitting, following and withdrawing jobs, for the bot and the command line; never imports torch.

The caller makes the job (and so its id); `submit` sends it to the `gpu` queue under that id, so a
resubmission of the same job is recognised by the workers' ledger.
- The command line blocks on `result`.
- The bot's reconciler asks for a `snapshot` of every open job at once: its place in the queue (read
  from the broker's own list, oldest first), whether a worker holds or runs it, and its result.
- a running job's `stage` and `progress` are what its worker last reported (`implementor/workers/progress.py`).
- a job taken or started by a worker that no longer beats (`implementor/workers/liveness.py`) is `orphaned`;
  `resubmit` queues it again at once instead of after the visibility timeout.
- `withdraw` cancels a job for good if no worker has admitted it yet (its drafting has not started:
  it waits in the queue, in a worker's batch, or behind the models loading), in the ledger the client
  was built with: the workers' (`implementor/workers/ledger.py`; Redis on the stack, the embedded
  worker's in memory).
- for an honest estimate of a wait, `live_workers` counts the worker processes serving the `gpu`
  queue (from their heartbeats), and `job_seconds` is the median time a recent job of a kind took.
- what the result backend says of a job is decoded in one place (`_decode`), for `stage`, `result`
  and `snapshot` alike.
- `check_broker` turns an unreachable broker into one clear line before anything is queued.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from celery import Celery
from pydantic import TypeAdapter

from implementor.config.settings import Settings, redacted_url
from implementor.contracts.errors import ConfigError, ImplementorError, JobTimeout
from implementor.contracts.jobs import RESULT_OF_KIND, IntroduceJob, JobView, ProjectJob, Result
from implementor.workers import liveness
from implementor.workers.app import create_app
from implementor.workers.ledger import Ledger, RedisLedger
from implementor.workers.names import FORGET_TASK, GPU_QUEUE, HARVEST_TASK, LEARN_QUEUE, TASK_OF_KIND

_RESULT: TypeAdapter[Result] = TypeAdapter(Result)
Progress = Callable[[str], None]
UNACKED = "unacked"  # kombu's Redis transport: delivery tag -> [message, exchange, routing key] of taken jobs


def _task_id(message: bytes | str) -> str | None:
    try:
        data = json.loads(message)
        data = data[0] if isinstance(data, list) else data  # unacked entries wrap the message
        return str(data["headers"]["id"])
    except (ValueError, KeyError, TypeError, IndexError):
        return None


@dataclass(frozen=True)
class _Backend:
    """What the result backend says of one job, decoded once."""

    result: Result | None = None  # it finished, with this result
    crash: str | None = None  # the task itself crashed (our tasks record errors as results instead)
    started: bool = False  # a worker has started it (and not finished)
    stage: str = "generating"  # what the worker running it says it is doing
    progress: float | None = None  # how far through that stage, 0..1 (None: it did not say)

    @property
    def finished(self) -> bool:
        return self.result is not None or self.crash is not None


def _decode(meta: dict[str, Any]) -> _Backend:
    """A job's task meta (`backend.get_task_meta`) as a `_Backend`; a job the backend has not seen is waiting."""
    status, value = meta.get("status"), meta.get("result")
    if status == "SUCCESS":
        return _Backend(result=_RESULT.validate_python(value))
    if status == "FAILURE":
        return _Backend(crash=f"failed in the worker: {value!r}"[:300])
    if status in ("PROGRESS", "STARTED"):  # STARTED's meta is Celery's (pid, hostname); PROGRESS's ours
        meta = value if isinstance(value, dict) else {}
        return _Backend(started=True, stage=str(meta.get("stage", "generating")), progress=_share(meta.get("progress")))
    return _Backend()


def _share(value: Any) -> float | None:
    """A reported progress as a share 0..1; anything else (nothing, or a worker's nonsense) is unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # (NaN)
        return None
    return min(max(float(value), 0.0), 1.0)


class JobClient:
    """The queue as the bot and the command line use it: `app` sends and reads jobs, `ledger` withdraws them."""

    def __init__(self, app: Celery, ledger: Ledger) -> None:
        self.app, self.ledger = app, ledger

    def submit(self, job: IntroduceJob | ProjectJob) -> str:
        """Queue a job under its own id; raises at once if the broker is away (callers retry, not kombu)."""
        self.app.send_task(TASK_OF_KIND[job.kind], kwargs={"job": job.model_dump(mode="json")},
                           task_id=job.job_id, queue=GPU_QUEUE, retry=False)
        return job.job_id

    def _backend(self, job_id: str) -> _Backend:
        return _decode(self.app.backend.get_task_meta(job_id))

    def stage(self, job_id: str) -> str:
        """"queued", "loading models", "generating" (or another stage a worker names) or "done",
        as far as the result backend knows."""
        return self._stage(self._backend(job_id))

    @staticmethod
    def _stage(backend: _Backend) -> str:
        return "done" if backend.finished else backend.stage if backend.started else "queued"

    def result(self, job_id: str, timeout: float, on_progress: Progress | None = None, poll: float = 0.1) -> Result:
        """Block until the job's result arrives (the command line)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            backend = self._backend(job_id)
            if backend.crash is not None:
                raise ImplementorError(f"job {job_id} {backend.crash}")
            if backend.result is not None:
                return backend.result
            if on_progress is not None:
                on_progress(self._stage(backend))
            time.sleep(poll)
        raise JobTimeout(f"job {job_id} did not finish within {timeout:.0f} s")

    # --- the bot's view: every open job at once, from the broker's own state ----------------------------

    def _broker_state(self, job_ids: Sequence[str]) -> tuple[list[str], set[str], dict[str, tuple[str, bool]]]:
        """Ids of the jobs waiting in the queue (oldest first) and of those a worker has taken; who holds which."""
        with self.app.connection_for_read() as connection:
            client = connection.default_channel.client
            waiting = [i for i in map(_task_id, client.lrange(GPU_QUEUE, 0, -1)) if i]  # newest first (LPUSH)
            taken = {i for i in map(_task_id, client.hvals(UNACKED)) if i}
            held = liveness.holders(client, job_ids)
        return list(reversed(waiting)), taken, held

    def _view(self, job_id: str, waiting: list[str], taken: set[str],
              held: dict[str, tuple[str, bool]] | None = None) -> JobView:
        backend = self._backend(job_id)
        if backend.finished:  # a crash is done too, with no result: its stage says why
            return JobView(job_id=job_id, state="done", result=backend.result, stage=backend.crash)
        holder, alive = (held or {}).get(job_id, (None, True))
        if holder is not None and not alive and job_id not in waiting and (job_id in taken or backend.started):
            # Taken or started by a worker that stopped beating: it will not finish there. (A job back
            # in the queue, restored by a worker shutting down, is simply queued.)
            return JobView(job_id=job_id, state="orphaned", worker=holder)
        if backend.started and job_id not in waiting:  # (in the queue too: a copy submitted again waits for a worker)
            return JobView(job_id=job_id, state="running", stage=backend.stage, progress=backend.progress)
        if job_id in taken:
            return JobView(job_id=job_id, state="reserved", position=1)
        if job_id in waiting:
            # Behind every job a worker has taken and every older one in the queue.
            return JobView(job_id=job_id, state="queued", position=len(taken) + waiting.index(job_id) + 1)
        return JobView(job_id=job_id, state="unknown")

    def snapshot(self, job_ids: Sequence[str]) -> dict[str, JobView]:
        """Where each job stands; raises the broker's connection errors (the caller retries later)."""
        if not job_ids:
            return {}
        waiting, taken, held = self._broker_state(job_ids)
        return {job_id: self._view(job_id, waiting, taken, held) for job_id in job_ids}

    def resubmit(self, job: IntroduceJob | ProjectJob, dead_worker: str) -> str:
        """Queue an orphaned job again: first forget its dead holder, so that the next snapshot does not
        call it orphaned again while the new copy waits for a worker (the new holder is then recorded)."""
        with self.app.connection_for_write() as connection:
            liveness.release(connection.default_channel.client, job.job_id, dead_worker)
        return self.submit(job)

    def withdraw(self, job_id: str, kind: str) -> bool:
        """Cancel a job for good if no worker has admitted it; False if it is running or done already."""
        cancelled = RESULT_OF_KIND[kind](job_id=job_id, status="cancelled", error="cancelled by the member who asked")
        return self.ledger.withdraw(job_id, cancelled.model_dump_json())

    def live_workers(self) -> int:
        """Worker processes alive and serving the `gpu` queue, each running one batch at a time: the pool
        processes of every worker whose heartbeat is alive (`liveness.live_workers`; two Redis round
        trips). 0 when none is: no job will start until one does.

        Without a broker (the embedded default) the one worker is the thread `embedded_worker` runs
        beside this client: 1. Raises the broker's connection errors (the caller retries later)."""
        if self.app.conf.implementor_settings.broker_url is None:
            return 1
        with self.app.connection_for_read() as connection:
            return liveness.live_workers(connection.default_channel.client, GPU_QUEUE)

    def job_seconds(self, kind: str) -> float | None:
        """The median of the seconds the latest jobs of `kind` ("introduce" or "project") took from
        admission to result (the last 20 "ok" ones the workers recorded in the ledger; jobs drafted in
        one batch each count the batch's time); None before any finished. Embedded: the embedded
        worker's, in its memory ledger."""
        durations = self.ledger.durations(kind)
        return statistics.median(durations) if durations else None

    def request_harvest(self) -> None:
        """Ask the learner for a harvest now (after `/learn enable`), instead of at the next scheduled run."""
        self.app.send_task(HARVEST_TASK, queue=LEARN_QUEUE, retry=False)

    def request_forget(self) -> None:
        """Ask the learner to remove opted-out members' rows from the harvested sets now (after `/learn optout`);
        lost or not, the next learning cycle does it too."""
        self.app.send_task(FORGET_TASK, queue=LEARN_QUEUE, retry=False)

    def check_broker(self, timeout: float = 3.0) -> None:
        """Raise a one-line ConfigError, naming the URL (password hidden), if the broker does not answer."""
        check_redis(self.app.conf.implementor_settings.broker_url.get_secret_value(), timeout)

    def close(self) -> None:
        """Stop listening for results and release connections (before the broker goes away)."""
        consumer = getattr(self.app.backend, "result_consumer", None)
        if consumer is not None:
            consumer.stop()
            # Results collected later (AsyncResult.__del__) unsubscribe through the pub/sub connection;
            # without it they skip that, instead of retrying against a broker that may be gone.
            consumer._pubsub = None
        self.app.close()


def stack_client(settings: Settings, url: str | None = None) -> JobClient:
    """A client of the stack's queue: the app on the broker, and the workers' ledger in Redis at `url`
    (the broker's, by default)."""
    if url is None:
        if settings.broker_url is None:
            raise ConfigError("the stack's queue needs IMPLEMENTOR_BROKER_URL (the Redis the workers use)")
        url = settings.broker_url.get_secret_value()
    return JobClient(create_app(settings), RedisLedger.from_url(url, settings.result_ttl_s))


def check_redis(url: str, timeout: float = 3.0) -> None:
    """Ping a Redis URL once, quickly; a ConfigError in one line if it does not answer."""
    import redis

    try:
        client: Any = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        client.ping()
        client.close()
    except redis.AuthenticationError as exc:  # a ConnectionError too, so first
        raise ConfigError(f"the broker at {redacted_url(url)} refused the password ({exc}); "
                          "fix the password in IMPLEMENTOR_BROKER_URL") from None
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"the broker at {redacted_url(url)} does not answer ({reason}); start Redis there or "
                          "set IMPLEMENTOR_BROKER_URL to one that runs") from None
