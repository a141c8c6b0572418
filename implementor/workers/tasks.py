"""The worker's tasks: thin, batched, idempotent.

`implementor.introduce` and `implementor.project` are celery-batches tasks: a worker buffers the jobs
that arrive within `batch_window_s` (up to `batch_max_size`) and runs them as one batch. Each task
decodes its jobs, readies the models, admits the jobs just before the models start on them
(`admission.py`: the ledger makes a job that runs twice answer once, and a job withdrawn until then
never run), calls the model pipeline (`implementor/models/pipeline.py`) for the admitted ones, and
encodes results. While it runs, the batch's progress goes to the result backend (`progress.py`);
when it is done, its jobs' durations go to the ledger (for the bot's estimate of a wait).

The models are the process's one `ModelSet` (`model_set.py`), shared by both tasks and loaded on the
first batch; promoted heads are swapped in between batches. The ledger is the one `create_app` was
given (the embedded default's, in memory), or a Redis ledger opened by each worker process.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from celery import Celery
from celery_batches import Batches, SimpleRequest
from celery_batches.trace import apply_batches_task

from implementor.config.log_setup import job_context
from implementor.config.settings import Settings
from implementor.contracts.jobs import IntroduceJob, IntroduceResult, Profile, ProjectJob, ProjectResult, ResultBase
from implementor.contracts.persona import Persona
from implementor.contracts.states import Stage
from implementor.workers.admission import JobSchema, run_admitted, screen
from implementor.workers.ledger import Ledger, RedisLedger
from implementor.workers.metrics import WorkerMetrics
from implementor.workers.model_set import ModelSet
from implementor.workers.names import INTRODUCE_TASK, PING_TASK, PROJECT_TASK
from implementor.workers.progress import BatchProgress

if TYPE_CHECKING:  # the models load lazily, in the worker process (model_set.py)
    from implementor.models.pipeline import ColleaguePipeline, Progress

# Runs a batch's admitted jobs through the models, telling `Progress` how far it is; a result per job.
RunModels = Callable[[list[Any], "Progress"], list[Any]]

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


def introduce_results(pipeline: ColleaguePipeline, jobs: list[IntroduceJob],
                      progress: Progress | None = None) -> list[IntroduceResult]:
    from implementor.models.pipeline import PersonaRequest

    timings: dict[str, float] = {}
    done = pipeline.introduce([PersonaRequest(j.name, j.title, j.seed) for j in jobs], timings, progress)
    return [IntroduceResult(
        job_id=job.job_id, status="ok", timings_ms=timings, low_confidence=intro.ranked.low_confidence,
        profile=Profile(name=intro.name, title=intro.title, seed=intro.seed, cv=intro.cv,
                        png_base64=base64.b64encode(intro.png).decode("ascii"),
                        face_px=pipeline.face.config.image_size),
        candidates=list(intro.ranked.candidates),
    ) for job, intro in zip(jobs, done, strict=True)]


def hire_first(pipeline: ColleaguePipeline, jobs: list[ProjectJob], progress: Progress | None = None
               ) -> dict[str, Profile]:
    """The colleagues that jobs asking to hire first hire (as an introduction would), by job id."""
    hiring = [IntroduceJob(job_id=j.job_id) for j in jobs if j.hire and j.colleague is None]
    if not hiring:
        return {}
    return {r.job_id: r.profile for r in introduce_results(pipeline, hiring, progress) if r.profile is not None}


def project_results(pipeline: ColleaguePipeline, jobs: list[ProjectJob],
                    progress: Progress | None = None) -> list[ProjectResult]:
    timings: dict[str, float] = {}
    hired = hire_first(pipeline, jobs, progress)
    voices = [Persona.from_cv(p.name, p.title, p.cv) if (p := hired.get(j.job_id)) else j.colleague for j in jobs]
    answers = pipeline.answer([(j.request, voice) for j, voice in zip(jobs, voices, strict=True)], timings,
                              progress=progress, explore=[j.explore for j in jobs], histories=[j.history for j in jobs])
    return [ProjectResult(job_id=job.job_id, status="ok", reply=a.reply, timings_ms=timings,
                          low_confidence=a.ranked.low_confidence, candidates=list(a.ranked.candidates),
                          explored=a.ranked.explored, profile=hired.get(job.job_id))
            for job, a in zip(jobs, answers, strict=True)]


def run_batch(task: ModelTask, requests: list[SimpleRequest], schema: JobSchema, result_cls: type[ResultBase],
              run: RunModels) -> None:
    """Sort out, admit, run and record one batch of requests, then store every job's result for its caller.

    The jobs are admitted once the models are loaded, just before drafting starts (`admission.py`):
    until then a member can withdraw any of them."""
    task.models.follow_promotions()
    admission = screen(requests, schema, result_cls, task.ledger)
    kind = task.name.removeprefix("implementor.")
    progress = BatchProgress(task.backend)
    progress.follow([delivery.id for delivery, _ in admission.waiting])
    if admission.waiting and not task.models.loaded:
        progress(Stage.LOADING)
    task_of = {job.job_id: delivery.id for delivery, job in admission.waiting}

    def measured(jobs: list[Any]) -> list[Any]:
        progress.follow([task_of[job.job_id] for job in jobs])  # the admitted ones
        results = run(jobs, progress)
        task.metrics.batch(kind, results, task.settings.realism_threshold)
        return results

    with job_context(delivery.id for delivery, _ in admission.waiting):
        run_admitted(admission, result_cls, measured, task.ledger, task.settings.max_attempts,
                     ready=lambda: task.pipeline)
    for request in requests:
        task.backend.mark_as_done(request.id, admission.finished[request.id], request=request)
    try:
        task.ledger.add_durations(kind, admission.durations())
    except Exception as exc:  # noqa: BLE001 - the results are out; the bot's estimate can miss one batch
        log.warning("could not record the batch's job durations (%s)", exc)


def register_tasks(app: Celery, settings: Settings) -> dict[str, Any]:
    """Define the tasks on an app; the batch size and window come from settings."""
    options = {"base": ModelTask, "flush_every": settings.batch_max_size, "flush_interval": settings.batch_window_s,
               "acks_late": True, "reject_on_worker_lost": True}

    @app.task(name=INTRODUCE_TASK, bind=True, **options)
    def introduce(self: ModelTask, requests: list[SimpleRequest]) -> None:
        run_batch(self, requests, IntroduceJob, IntroduceResult,
                  lambda jobs, progress: introduce_results(self.pipeline, jobs, progress))

    @app.task(name=PROJECT_TASK, bind=True, **options)
    def project(self: ModelTask, requests: list[SimpleRequest]) -> None:
        run_batch(self, requests, ProjectJob, ProjectResult,
                  lambda jobs, progress: project_results(self.pipeline, jobs, progress))

    @app.task(name=PING_TASK)
    def ping() -> str:
        """A no-op job, for measuring the queue's own overhead."""
        return "pong"

    return {"introduce": introduce, "project": project, "ping": ping}
