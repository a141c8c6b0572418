"""The worker's tasks: thin, batched, idempotent.

`implementor.introduce` and `implementor.project` are celery-batches tasks: a worker buffers the jobs
that arrive within `batch_window_s` (up to `batch_max_size`) and runs them through the models as one
batch (see models/colleague.py), then records each job's result. Per job:
- a payload that is not a valid job gets an error result at once and is never retried;
- a job already recorded in the ledger returns its recorded result (a job that runs twice yields
  one result);
- a job started more than `max_attempts` times (its worker keeps dying) gets an error result;
- a job whose batch fails is retried alone, so one bad job cannot sink its neighbours.

The models live in a lazily cached property of the task class, so each worker process loads them
once, on first use, and not in a signal handler that Celery would kill after a few seconds.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from functools import cached_property
from typing import Any

from celery import Celery
from celery_batches import Batches, SimpleRequest
from celery_batches.trace import apply_batches_task
from pydantic import ValidationError

from config.settings import Settings
from workers.ledger import Ledger, MemoryLedger, RedisLedger
from workers.schemas import (
    CandidateScore,
    IntroduceJob,
    IntroduceResult,
    Persona,
    ProjectJob,
    ProjectResult,
    ResultBase,
)

log = logging.getLogger(__name__)

_MEMORY_LEDGER = MemoryLedger()  # the embedded default's, shared by the client and the in-process worker


def thread_budget(settings: Settings) -> int:
    """Torch threads per worker process: the machine's cores shared among the processes that may run."""
    if settings.worker_autoscale:
        processes = int(settings.worker_autoscale.split(",")[0])
    else:
        processes = settings.worker_concurrency
    return max(1, (os.cpu_count() or 1) // max(1, processes))


class ModelTask(Batches):
    """A batched task whose process holds the models and the ledger."""

    abstract = True

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.conf.implementor_settings
        return settings

    @cached_property
    def colleague(self):
        import torch

        from models.colleague import Colleague

        torch.set_num_threads(thread_budget(self.settings))
        log.info("loading models in process %d (%d torch threads)", os.getpid(), torch.get_num_threads())
        return Colleague.load(self.settings)

    @cached_property
    def ledger(self) -> Ledger:
        if self.settings.broker_url is None:
            return _MEMORY_LEDGER
        return RedisLedger.from_url(self.settings.broker_url.get_secret_value(), self.settings.result_ttl_s)

    def flush(self, requests: Any) -> Any:
        """Run a batch in the pool, acknowledging its jobs when it returns.

        celery-batches acknowledges on success only; a batch whose process died (or hit the hard time
        limit) would leave its jobs unacknowledged until the visibility timeout. Here they go back to
        the queue at once, as `reject_on_worker_lost` does for ordinary tasks; the ledger's attempt
        count ends a job that keeps killing its worker.
        """
        requests = list(requests)

        def on_return(_result: Any) -> None:
            for request in requests:
                request.acknowledge()

        def on_error(_exc_info: Any) -> None:
            log.warning("a batch of %d jobs lost its worker process; requeueing them", len(requests))
            for request in requests:
                request.reject(requeue=True)

        return self._pool.apply_async(
            apply_batches_task, (self, ([SimpleRequest.from_request(r) for r in requests],), 0, None),
            callback=on_return, error_callback=on_error,
        )


def _decode(request: SimpleRequest, schema: type[IntroduceJob] | type[ProjectJob]) -> IntroduceJob | ProjectJob:
    payload = request.kwargs.get("job") if request.kwargs else (request.args[0] if request.args else None)
    if isinstance(payload, str):
        payload = json.loads(payload)
    return schema.model_validate(payload)


def _candidates(ranked: Any) -> list[CandidateScore]:
    return [CandidateScore(text=c.text, p_real=c.p_real, quality=c.quality, chosen=c.chosen, reason=c.reason)
            for c in ranked.candidates]


def _introduce_outputs(task: ModelTask, jobs: list[IntroduceJob]) -> list[IntroduceResult]:
    import base64

    from models.colleague import PersonaRequest

    timings: dict[str, float] = {}
    done = task.colleague.introduce([PersonaRequest(j.name, j.title, j.seed) for j in jobs], timings)
    return [IntroduceResult(
        job_id=job.job_id, status="ok", timings_ms=timings, low_confidence=intro.ranked.low_confidence,
        persona=Persona(name=intro.name, title=intro.title, seed=intro.seed, cv=intro.cv,
                        png_base64=base64.b64encode(intro.png).decode("ascii")),
        candidates=_candidates(intro.ranked),
    ) for job, intro in zip(jobs, done, strict=True)]


def _project_outputs(task: ModelTask, jobs: list[ProjectJob]) -> list[ProjectResult]:
    timings: dict[str, float] = {}
    answers = task.colleague.answer([j.request for j in jobs], timings)
    return [ProjectResult(job_id=job.job_id, status="ok", reply=a.reply, timings_ms=timings,
                          low_confidence=a.ranked.low_confidence, candidates=_candidates(a.ranked))
            for job, a in zip(jobs, answers, strict=True)]


def run_batch(task: ModelTask, requests: list[SimpleRequest], schema: type[IntroduceJob] | type[ProjectJob],
              result_cls: type[ResultBase], run: Callable[[ModelTask, list[Any]], list[Any]]) -> None:
    """Admit, run and record one batch of requests; see the module docstring."""
    finished: dict[str, dict[str, Any]] = {}
    admitted: list[tuple[SimpleRequest, Any, int]] = []
    for request in requests:
        try:
            job = _decode(request, schema)
        except (ValidationError, ValueError, TypeError) as exc:
            log.warning("rejecting malformed job %s: %s", request.id, exc)
            finished[request.id] = result_cls(job_id=request.id, status="error", error=f"malformed job: {exc}",
                                              attempts=1).model_dump(mode="json")
            continue
        recorded = task.ledger.result(job.job_id)
        if recorded is not None:
            finished[request.id] = json.loads(recorded)
            continue
        attempts = task.ledger.begin(job.job_id)
        if attempts > task.settings.max_attempts:
            error = f"gave up after {attempts - 1} attempts: the job kept stopping its worker"
            finished[request.id] = _record(task, result_cls(job_id=job.job_id, status="error",
                                                            error=error, attempts=attempts - 1))
            continue
        admitted.append((request, job, attempts))
    stage = "generating" if "colleague" in task.__dict__ else "loading models"
    for request in [r for r, _, _ in admitted]:
        task.backend.store_result(request.id, {"stage": stage}, "PROGRESS")
    for (request, _job, attempts), result in zip(admitted, _run_safely(task, [j for _, j, _ in admitted],
                                                                     result_cls, run), strict=True):
        finished[request.id] = _record(task, result.model_copy(update={"attempts": attempts}))
    for request in requests:
        task.backend.mark_as_done(request.id, finished[request.id], request=request)


def _run_safely(task: ModelTask, jobs: list[Any], result_cls: type[ResultBase],
                run: Callable[[ModelTask, list[Any]], list[Any]]) -> list[Any]:
    """Run the batch; if it fails, run its jobs one by one so only the failing ones report errors."""
    if not jobs:
        return []
    try:
        return run(task, jobs)
    except Exception:
        if len(jobs) == 1:
            log.exception("job %s failed", jobs[0].job_id)
            return [result_cls(job_id=jobs[0].job_id, status="error",
                               error="the worker could not complete this job; see its log")]
        log.exception("a batch of %d jobs failed; running them one by one", len(jobs))
        return [r for job in jobs for r in _run_safely(task, [job], result_cls, run)]


def _record(task: ModelTask, result: ResultBase) -> dict[str, Any]:
    recorded = task.ledger.record(result.job_id, result.model_dump_json())
    loaded: dict[str, Any] = json.loads(recorded)
    return loaded


def register_tasks(app: Celery, settings: Settings) -> dict[str, ModelTask]:
    """Define the tasks on an app; the batch size and window come from settings."""
    options = {"base": ModelTask, "flush_every": settings.batch_max_size, "flush_interval": settings.batch_window_s,
               "acks_late": True, "reject_on_worker_lost": True}

    @app.task(name="implementor.introduce", bind=True, **options)
    def introduce(self: ModelTask, requests: list[SimpleRequest]) -> None:
        run_batch(self, requests, IntroduceJob, IntroduceResult, _introduce_outputs)

    @app.task(name="implementor.project", bind=True, **options)
    def project(self: ModelTask, requests: list[SimpleRequest]) -> None:
        run_batch(self, requests, ProjectJob, ProjectResult, _project_outputs)

    @app.task(name="implementor.ping")
    def ping() -> str:
        """A no-op job, for measuring the queue's own overhead."""
        return "pong"

    return {"introduce": introduce, "project": project, "ping": ping}
