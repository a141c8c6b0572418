"""A running batch's progress, told to whoever follows its jobs: the result backend's PROGRESS state, throttled.

Celery keeps each job's state in the result backend (Redis on the stack, memory when embedded). While
a batch runs, the worker writes `{"stage": ..., "progress": ...}` there as the PROGRESS meta of each
of its jobs, which `JobClient.snapshot` reads into `JobView.stage` and `JobView.progress`:

    "loading models"   progress None   the worker's first batch (only its jobs not yet admitted: still withdrawable)
    "writing drafts"   0..1 or None    the share of the drafting's token budget spent (None: the engine cannot tell)
    "judging drafts"   None            the reranker scores the drafts
    (then the result: SUCCESS)

The pipeline calls the reporter after every decoding step; the reporter writes at once when the stage
changes and otherwise at most every `EVERY_S`, so decoding never waits on Redis more than about one
round trip per job a second. A write that fails is logged once and skipped: following a job never
fails it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

EVERY_S = 1.0  # the most often a batch's progress is written, beside its changes of stage


class BatchProgress:
    """The pipeline's `progress` callback for one batch, writing to the jobs it follows (their task ids)."""

    def __init__(self, backend: Any, every_s: float = EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.backend, self.every_s, self.clock = backend, every_s, clock
        self.task_ids: list[str] = []
        self.stage: str | None = None
        self.done: float | None = None
        self.written_at = -math.inf
        self._warned = False

    def follow(self, task_ids: Sequence[str]) -> None:
        """Report on these jobs from now on (the admitted ones: a job that dropped out has its own result)."""
        self.task_ids = list(task_ids)

    def __call__(self, stage: str, done: float | None = None) -> None:
        if stage == self.stage and (done == self.done or self.clock() - self.written_at < self.every_s):
            return
        self.stage, self.done, self.written_at = stage, done, self.clock()
        meta = {"stage": stage, "progress": None if done is None else round(min(max(done, 0.0), 1.0), 3)}
        for task_id in self.task_ids:
            try:
                self.backend.store_result(task_id, meta, "PROGRESS")
            except Exception as exc:  # noqa: BLE001 - Redis away for a moment: the job runs on regardless
                if not self._warned:
                    log.warning("could not report the progress of job %s (%s); carrying on", task_id, exc)
                    self._warned = True
