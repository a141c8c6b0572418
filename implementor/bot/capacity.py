"""How long a member waits, honestly: how many workers serve the queue, and how long their jobs take.

Once a reconciler pass, `count` asks the queue (`Jobs.live_workers`, from the workers' heartbeats) how
many worker processes serve it, and the median of the job times workers measured per kind
(`Jobs.job_seconds`). `estimate` turns a place in line into seconds from them: the queue drains one
batch per worker per job time (a job's measured time is its whole batch's), so a job waits for the
batches ahead of it and its own. Before any job was measured, it falls back to how fast recent jobs
finished, then to a default. With no worker alive there is no estimate: `no_worker_since` says since
when, for the status lines, the front door (which refuses new requests after
`IMPLEMENTOR_NO_WORKER_REFUSE_S`), the healthcheck and the metrics.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from typing import Protocol

from implementor.contracts.jobs import Job, JobView
from implementor.store.jobbook import JobBook

log = logging.getLogger(__name__)

DEFAULT_JOB_S = 15.0  # the estimate per job before any has finished
KINDS = ("introduce", "project")


class Jobs(Protocol):
    """What the bot needs from the queue (implementor.workers.client.JobClient, or a test double)."""

    def submit(self, job: Job) -> str: ...
    def resubmit(self, job: Job, dead_worker: str) -> str: ...
    def snapshot(self, job_ids: Sequence[str]) -> dict[str, JobView]: ...
    def withdraw(self, job_id: str, kind: str) -> bool: ...
    def request_harvest(self) -> None: ...
    def request_forget(self) -> None: ...  # opted-out members' harvested rows, removed by the learner
    def live_workers(self) -> int: ...  # worker processes alive and serving the queue
    def job_seconds(self, kind: str) -> float | None: ...  # the median of recent job times; None before any


class Capacity:
    def __init__(self, jobs: Jobs, book: JobBook, clock: Callable[[], float], batch_size: int = 1) -> None:
        self.jobs, self.book, self.clock = jobs, book, clock
        self.batch_size = max(1, batch_size)  # jobs a worker drafts together (IMPLEMENTOR_BATCH_MAX_SIZE)
        self.workers: int | None = None  # at the last count; None: not known yet (or the broker is away)
        self.no_worker_since: float | None = None
        self.job_seconds: dict[str, float | None] = {}

    async def count(self) -> None:
        """Read the workers and the measured job times (unknown while the broker is away: nothing changes)."""
        try:
            workers = await asyncio.to_thread(self.jobs.live_workers)
            self.job_seconds = {kind: await asyncio.to_thread(self.jobs.job_seconds, kind) for kind in KINDS}
        except Exception as exc:  # noqa: BLE001 - the broker is away: the reconciler's snapshot says so
            log.debug("could not count the workers (%s)", exc)
            return
        if workers == 0 and self.no_worker_since is None:
            log.warning("no worker is serving the queue: requests wait in line, and their statuses say so")
            self.no_worker_since = self.clock()
        elif workers > 0 and self.no_worker_since is not None:
            log.info("%d worker process(es) serve the queue again", workers)
            self.no_worker_since = None
        self.workers = workers

    def without_workers_for(self) -> float:
        """Seconds since a worker last served the queue (0 while one does, or while it is not known)."""
        return 0.0 if self.no_worker_since is None else max(0.0, self.clock() - self.no_worker_since)

    async def estimate(self, position: int, kind: str = "project") -> float:
        """Seconds until a job at `position` (1: next) is done."""
        per_job = self.job_seconds.get(kind)
        if per_job and self.workers:
            return math.ceil(position / (self.workers * self.batch_size)) * per_job
        finishes = await self.book.recent_finishes()
        per_job = DEFAULT_JOB_S
        if len(finishes) >= 3 and finishes[0] > finishes[-1]:
            per_job = (finishes[0] - finishes[-1]) / (len(finishes) - 1)
        return position * per_job
