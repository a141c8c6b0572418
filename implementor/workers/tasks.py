"""The worker's tasks: thin, batched, idempotent.

`implementor.introduce` and `implementor.project` are celery-batches tasks: a worker buffers the jobs
that arrive within `batch_window_s` (up to `batch_max_size`) and runs them as one batch. Each task
decodes its jobs and admits them (`admission.py`: the ledger makes a job that runs twice answer
once), calls the model pipeline (`implementor/models/pipeline.py`) for the admitted ones, and encodes results.

The models are the process's one `ModelSet` (`model_set.py`), shared by both tasks and loaded on the
first batch; promoted heads are swapped in between batches. The ledger is the one `create_app` was
given (the embedded default's, in memory), or a Redis ledger opened by each worker process.
"""

from __future__ import annotations

import base64
import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any

from celery import Celery
from celery_batches import Batches, SimpleRequest
from celery_batches.trace import apply_batches_task

from implementor.config.log_setup import job_context
from implementor.config.settings import Settings
from implementor.contracts.jobs import IntroduceJob, IntroduceResult, Profile, ProjectJob, ProjectResult, ResultBase
from implementor.workers.admission import JobSchema, Run, admit, run_admitted
from implementor.workers.ledger import Ledger, RedisLedger
from implementor.workers.metrics import WorkerMetrics
from implementor.workers.model_set import ModelSet
from implementor.workers.names import INTRODUCE_TASK, PING_TASK, PROJECT_TASK

if TYPE_CHECKING:  # the models load lazily, in the worker process (model_set.py)
    from implementor.models.pipeline import ColleaguePipeline

log = logging.getLogger(__name__)


class ModelTask(Batches):
    """A batched task that reaches its process's models and ledger."""

    abstract = True

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.conf.implementor_settings
        return settings

    @property
    def models(self) -> ModelSet:
        """The process's one model set, shared with every other task of this app (`model_set.py`)."""
        models: ModelSet = self.app.conf.implementor_models
        return models

    @property
    def pipeline(self) -> ColleaguePipeline:
        return self.models.pipeline

    @property
    def metrics(self) -> WorkerMetrics:
        metrics: WorkerMetrics = self.app.conf.implementor_metrics
        return metrics

    @cached_property
    def ledger(self) -> Ledger:
        given: Ledger | None = self.app.conf.implementor_ledger
        if given is not None:
            return given
        assert self.settings.broker_url is not None, "create_app gives the embedded default a memory ledger"
        return RedisLedger.from_url(self.settings.broker_url.get_secret_value(), self.settings.result_ttl_s)

    def flush(self, requests: Any) -> Any:
        """Run a batch in the pool, acknowledging its jobs when it returns, requeueing them if it dies.

        celery-batches acknowledges on success only; a batch whose process died (or hit the hard time
        limit) would leave its jobs unacknowledged until the visibility timeout. Here they go back to
        the queue at once, as `reject_on_worker_lost` does for ordinary tasks; the ledger's attempt
        count ends a job that keeps killing its worker. This is celery-batches' own `flush` with an
        error callback added, so it uses the pool that celery-batches keeps in its private `_pool`:
        pyproject.toml pins celery-batches to the releases that have it, and a test checks it is there.
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


def introduce_results(pipeline: ColleaguePipeline, jobs: list[IntroduceJob]) -> list[IntroduceResult]:
    from implementor.models.pipeline import PersonaRequest

    timings: dict[str, float] = {}
    done = pipeline.introduce([PersonaRequest(j.name, j.title, j.seed) for j in jobs], timings)
    return [IntroduceResult(
        job_id=job.job_id, status="ok", timings_ms=timings, low_confidence=intro.ranked.low_confidence,
        profile=Profile(name=intro.name, title=intro.title, seed=intro.seed, cv=intro.cv,
                        png_base64=base64.b64encode(intro.png).decode("ascii")),
        candidates=list(intro.ranked.candidates),
    ) for job, intro in zip(jobs, done, strict=True)]


def project_results(pipeline: ColleaguePipeline, jobs: list[ProjectJob]) -> list[ProjectResult]:
    timings: dict[str, float] = {}
    answers = pipeline.answer([(j.request, j.colleague) for j in jobs], timings)
    return [ProjectResult(job_id=job.job_id, status="ok", reply=a.reply, timings_ms=timings,
                          low_confidence=a.ranked.low_confidence, candidates=list(a.ranked.candidates),
                          explored=a.ranked.explored)
            for job, a in zip(jobs, answers, strict=True)]


def run_batch(task: ModelTask, requests: list[SimpleRequest], schema: JobSchema, result_cls: type[ResultBase],
              run: Run) -> None:
    """Admit, run and record one batch of requests, then store every job's result for its caller."""
    task.models.follow_promotions()
    admission = admit(requests, schema, result_cls, task.ledger, task.settings.max_attempts)
    stage = "generating" if task.models.loaded else "loading models"
    for request, _, _ in admission.admitted:
        task.backend.store_result(request.id, {"stage": stage}, "PROGRESS")

    def measured(jobs: list[Any]) -> list[Any]:
        results = run(jobs)
        task.metrics.batch(task.name.removeprefix("implementor."), results, task.settings.realism_threshold)
        return results

    with job_context(request.id for request, _, _ in admission.admitted):
        run_admitted(admission, result_cls, measured, task.ledger)
    for request in requests:
        task.backend.mark_as_done(request.id, admission.finished[request.id], request=request)


def register_tasks(app: Celery, settings: Settings) -> dict[str, Any]:
    """Define the tasks on an app; the batch size and window come from settings."""
    options = {"base": ModelTask, "flush_every": settings.batch_max_size, "flush_interval": settings.batch_window_s,
               "acks_late": True, "reject_on_worker_lost": True}

    @app.task(name=INTRODUCE_TASK, bind=True, **options)
    def introduce(self: ModelTask, requests: list[SimpleRequest]) -> None:
        run_batch(self, requests, IntroduceJob, IntroduceResult, lambda jobs: introduce_results(self.pipeline, jobs))

    @app.task(name=PROJECT_TASK, bind=True, **options)
    def project(self: ModelTask, requests: list[SimpleRequest]) -> None:
        run_batch(self, requests, ProjectJob, ProjectResult, lambda jobs: project_results(self.pipeline, jobs))

    @app.task(name=PING_TASK)
    def ping() -> str:
        """A no-op job, for measuring the queue's own overhead."""
        return "pong"

    return {"introduce": introduce, "project": project, "ping": ping}
