"""The worker's tasks: thin, batched, idempotent.

`implementor.introduce` and `implementor.project` are celery-batches tasks: a worker buffers the jobs
that arrive within `batch_window_s` (up to `batch_max_size`) and runs them as one batch. Each task
decodes its jobs and admits them (`admission.py`: the ledger makes a job that runs twice answer
once), calls the model pipeline (`models/pipeline.py`) for the admitted ones, and encodes results.

The models live in a lazily cached property of the task class, so each worker process loads them
once, on first use, and not in a signal handler that Celery would kill after a few seconds. The
ledger is the one `create_app` was given (the embedded default's, in memory), or a Redis ledger
opened by each worker process.
"""

from __future__ import annotations

import base64
import logging
import os
import time
from functools import cached_property
from pathlib import Path
from typing import Any

from celery import Celery
from celery_batches import Batches, SimpleRequest
from celery_batches.trace import apply_batches_task

from config.settings import Settings
from contracts.jobs import IntroduceJob, IntroduceResult, Profile, ProjectJob, ProjectResult, ResultBase
from learning import versions
from workers.admission import JobSchema, Run, admit, run_admitted
from workers.ledger import Ledger, RedisLedger

log = logging.getLogger(__name__)


def thread_budget(settings: Settings) -> int:
    """Torch threads per worker process: the machine's cores shared among the processes that may run."""
    if settings.worker_autoscale:
        processes = int(settings.worker_autoscale.split(",")[0])
    else:
        processes = settings.worker_concurrency
    return max(1, (os.cpu_count() or 1) // max(1, processes))


def live_heads(settings: Settings) -> dict[str, Path | None]:
    """The promoted version of each head (`IMPLEMENTOR_MODELS_DIR`), or None where there is none."""
    return {kind: versions.current_path(settings.models_dir, kind) for kind in versions.KINDS}


def pipeline_spec(settings: Settings) -> Any:
    """What the worker's models are, from settings (models/ never reads settings itself)."""
    from models.pipeline import PipelineSpec

    live = live_heads(settings)
    return PipelineSpec(face=settings.face_model, writer=settings.writer_model,
                        realism=live["realism"] or settings.realism_model,
                        quality=live["quality"] or settings.quality_model, encoder=settings.encoder,
                        device=settings.device,
                        engine=settings.writer_engine,
                        threshold=settings.realism_threshold, candidates=settings.candidates,
                        png_size=settings.face_png_size, explore=settings.explore)


class ModelTask(Batches):
    """A batched task whose process holds the models and the ledger."""

    abstract = True
    _heads: dict[str, Path | None]
    _heads_checked = 0.0

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.conf.implementor_settings
        return settings

    @cached_property
    def pipeline(self) -> Any:
        import torch

        from models.pipeline import ColleaguePipeline

        torch.set_num_threads(thread_budget(self.settings))
        log.info("loading models in process %d (%d torch threads)", os.getpid(), torch.get_num_threads())
        self._heads, self._heads_checked = live_heads(self.settings), time.monotonic()
        return ColleaguePipeline.load(pipeline_spec(self.settings))

    def follow_promotions(self) -> None:
        """Between batches: load a head promoted since the last look (at most every `model_poll_s`).

        A batch runs start to end on the heads it began with; the next one gets the new version. A
        version that fails to load is logged and skipped, and the worker keeps serving the old one.
        """
        if self.settings.models_dir is None or "pipeline" not in self.__dict__:
            return
        if time.monotonic() - self._heads_checked < self.settings.model_poll_s:
            return
        self._heads_checked = time.monotonic()
        live = live_heads(self.settings)
        changed = {kind: path for kind, path in live.items() if path is not None and path != self._heads.get(kind)}
        self._heads = live
        if changed:
            try:
                self.pipeline.reranker = self.pipeline.reranker.with_heads(changed.get("realism"),
                                                                           changed.get("quality"))
            except Exception:
                log.exception("could not load the promoted heads %s; still serving the previous ones", changed)
                return
            log.info("now serving the promoted heads %s", {k: p.name for k, p in changed.items()})

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


def introduce_results(pipeline: Any, jobs: list[IntroduceJob]) -> list[IntroduceResult]:
    from models.pipeline import PersonaRequest

    timings: dict[str, float] = {}
    done = pipeline.introduce([PersonaRequest(j.name, j.title, j.seed) for j in jobs], timings)
    return [IntroduceResult(
        job_id=job.job_id, status="ok", timings_ms=timings, low_confidence=intro.ranked.low_confidence,
        profile=Profile(name=intro.name, title=intro.title, seed=intro.seed, cv=intro.cv,
                        png_base64=base64.b64encode(intro.png).decode("ascii")),
        candidates=list(intro.ranked.candidates),
    ) for job, intro in zip(jobs, done, strict=True)]


def project_results(pipeline: Any, jobs: list[ProjectJob]) -> list[ProjectResult]:
    timings: dict[str, float] = {}
    answers = pipeline.answer([(j.request, j.colleague) for j in jobs], timings)
    return [ProjectResult(job_id=job.job_id, status="ok", reply=a.reply, timings_ms=timings,
                          low_confidence=a.ranked.low_confidence, candidates=list(a.ranked.candidates),
                          explored=a.ranked.explored)
            for job, a in zip(jobs, answers, strict=True)]


def run_batch(task: ModelTask, requests: list[SimpleRequest], schema: JobSchema, result_cls: type[ResultBase],
              run: Run) -> None:
    """Admit, run and record one batch of requests, then store every job's result for its caller."""
    task.follow_promotions()
    admission = admit(requests, schema, result_cls, task.ledger, task.settings.max_attempts)
    stage = "generating" if "pipeline" in task.__dict__ else "loading models"
    for request, _, _ in admission.admitted:
        task.backend.store_result(request.id, {"stage": stage}, "PROGRESS")
    run_admitted(admission, result_cls, run, task.ledger)
    for request in requests:
        task.backend.mark_as_done(request.id, admission.finished[request.id], request=request)


def register_tasks(app: Celery, settings: Settings) -> dict[str, Any]:
    """Define the tasks on an app; the batch size and window come from settings."""
    options = {"base": ModelTask, "flush_every": settings.batch_max_size, "flush_interval": settings.batch_window_s,
               "acks_late": True, "reject_on_worker_lost": True}

    @app.task(name="implementor.introduce", bind=True, **options)
    def introduce(self: ModelTask, requests: list[SimpleRequest]) -> None:
        run_batch(self, requests, IntroduceJob, IntroduceResult, lambda jobs: introduce_results(self.pipeline, jobs))

    @app.task(name="implementor.project", bind=True, **options)
    def project(self: ModelTask, requests: list[SimpleRequest]) -> None:
        run_batch(self, requests, ProjectJob, ProjectResult, lambda jobs: project_results(self.pipeline, jobs))

    @app.task(name="implementor.ping")
    def ping() -> str:
        """A no-op job, for measuring the queue's own overhead."""
        return "pong"

    return {"introduce": introduce, "project": project, "ping": ping}
