"""The workers' Prometheus metrics, served on `IMPLEMENTOR_WORKER_METRICS_PORT` (`/metrics`).

    implementor_worker_batch_size{task}              jobs run through the models together
    implementor_worker_stage_seconds{task,stage}     a batch's time in each stage: face, draft, rerank
    implementor_worker_drafts_total{task}            drafts the reranker scored
    implementor_worker_drafts_passing_total{task}    those whose P(real) reached the realism threshold

Jobs run in the pool's processes and the endpoint lives in the worker's main process, so the figures
go through prometheus_client's multiprocess mode: `serve` (called from Celery's `worker_init`, before
the pool forks) points `PROMETHEUS_MULTIPROC_DIR` at a fresh directory, where each process writes its
own figures, and serves their sum. `WorkerMetrics` therefore makes its metric objects on first use,
in the process that records, after that set-up; without a port it records into its own registry.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, start_http_server, values

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
STAGE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._made: tuple[Histogram, Histogram, Counter, Counter] | None = None

    def _metrics(self) -> tuple[Histogram, Histogram, Counter, Counter]:
        if self._made is None:
            self._made = (
                Histogram("implementor_worker_batch_size", "Jobs run through the models together.", ["task"],
                          buckets=BATCH_BUCKETS, registry=self.registry),
                Histogram("implementor_worker_stage_seconds", "A batch's time in each stage.", ["task", "stage"],
                          buckets=STAGE_BUCKETS, registry=self.registry),
                Counter("implementor_worker_drafts", "Drafts the reranker scored.", ["task"], registry=self.registry),
                Counter("implementor_worker_drafts_passing", "Drafts whose P(real) reached the realism threshold.",
                        ["task"], registry=self.registry),
            )
        return self._made

    def batch(self, task: str, results: Sequence[Any], threshold: float) -> None:
        """One batch's figures, from its results (their timings and their drafts' scores)."""
        ok = [r for r in results if r.status == "ok"]
        if not ok:
            return
        size, stages, drafts, passing = self._metrics()
        size.labels(task).observe(len(ok))
        for stage, ms in ok[0].timings_ms.items():  # one batch, one set of timings, shared by its results
            stages.labels(task, stage.removesuffix("_ms")).observe(ms / 1000)
        candidates = [c for r in ok for c in r.candidates]
        drafts.labels(task).inc(len(candidates))
        passing.labels(task).inc(sum(1 for c in candidates if c.p_real >= threshold))


def serve(port: int, addr: str = "0.0.0.0") -> Any:
    """In the worker's main process, before the pool forks: multiprocess mode on, and `/metrics` served."""
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)  # figures of a previous run are not this one's
        os.makedirs(folder, exist_ok=True)
    else:
        folder = os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="implementor-metrics-")
    # prometheus_client picks its value class when it is imported; pick again, now that the directory is set.
    values.ValueClass = values.get_value_class()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=folder)
    server, _thread = start_http_server(port, addr, registry=registry)
    log.info("serving metrics on port %d (processes' figures in %s)", port, folder)
    return server


def process_gone(pid: int) -> None:
    """A pool process has exited: drop its live gauges (counters and histograms keep counting)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)
