"""Admitting and recording a batch of jobs: what makes a batched task idempotent, bounded and cancellable.

A batch is sorted out twice. When it forms (`screen`), per job:
- a payload that is not a valid job gets an error result at once and is never retried;
- a job already recorded in the ledger returns its recorded result (a job that runs twice yields
  one result; a job withdrawn by its member answers "cancelled" and never runs);
- the rest wait, still withdrawable, while the worker gets ready (its models may take a minute to load).
Just before the models start on them (`run_admitted`, once the models are loaded), the waiting jobs
are admitted in the ledger, atomically per job: one withdrawn meanwhile drops out with its
cancellation; one started more than `max_attempts` times (its worker keeps dying) gets an error
result; the rest count one more attempt, run together, and each result is recorded once (first
writer wins). A batch that fails is retried job by job (not admitted again), so one bad job cannot
sink its neighbours.

Why admit then, and not when the batch forms: a worker takes a whole batch at once (and holds the
next one while this one runs), and the models draft a batch's jobs together, in one engine call.
Admitting at the last moment before that call is what lets a member cancel any job whose drafting
has not started, wherever it waits; admitting each job separately would mean drafting one at a time.

Nothing here knows about models: the caller passes the function that readies them and the one that
runs the admitted jobs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from billiard.exceptions import SoftTimeLimitExceeded
from pydantic import ValidationError

from implementor.contracts.errors import ImplementorError
from implementor.contracts.jobs import IntroduceJob, ProjectJob, ResultBase
from implementor.workers.ledger import Ledger

log = logging.getLogger(__name__)

JobSchema = type[IntroduceJob] | type[ProjectJob]
Run = Callable[[list[Any]], list[Any]]


class Delivery(Protocol):
    """One message as celery-batches hands it over (its `SimpleRequest`)."""

    id: str
    args: Sequence[Any]
    kwargs: dict[str, Any]


@dataclass
class Admission:
    """A batch sorted out: results already known, jobs waiting to be admitted, and those admitted."""

    finished: dict[str, dict[str, Any]] = field(default_factory=dict)  # delivery id -> its result (JSON data)
    waiting: list[tuple[Delivery, Any]] = field(default_factory=list)  # valid jobs with no result yet
    attempts: dict[str, int] = field(default_factory=dict)  # job id -> its attempt number, once admitted
    admitted_at: dict[str, float] = field(default_factory=dict)  # job id -> when (time.monotonic)
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)  # job id -> result, if admission ended it

    def jobs(self) -> list[Any]:
        """The waiting jobs, each once (a job delivered twice into one batch runs once)."""
        return list({job.job_id: job for _, job in self.waiting}.values())

    def durations(self) -> list[float]:
        """Seconds from admission to now of each job this batch admitted and answered "ok" (each job once)."""
        now = time.monotonic()
        ok = {r.get("job_id") for r in self.finished.values() if r.get("status") == "ok"}
        return [now - at for job_id, at in self.admitted_at.items() if job_id in ok]


def decode(delivery: Delivery, schema: JobSchema) -> IntroduceJob | ProjectJob:
    payload = delivery.kwargs.get("job") if delivery.kwargs else (delivery.args[0] if delivery.args else None)
    if isinstance(payload, str):
        payload = json.loads(payload)
    return schema.model_validate(payload)


def record(ledger: Ledger, result: ResultBase) -> dict[str, Any]:
    """Record a result unless one exists; return the recorded one (the first) as JSON data."""
    recorded: dict[str, Any] = json.loads(ledger.record(result.job_id, result.model_dump_json()))
    return recorded


def screen(deliveries: Sequence[Delivery], schema: JobSchema, result_cls: type[ResultBase],
           ledger: Ledger) -> Admission:
    """Sort a batch as it forms into known results and jobs that wait; nothing is admitted or counted yet."""
    out = Admission()
    for delivery in deliveries:
        try:
            job = decode(delivery, schema)
        except (ValidationError, ValueError, TypeError) as exc:
            log.warning("rejecting malformed job %s: %s", delivery.id, exc)
            out.finished[delivery.id] = result_cls(job_id=delivery.id, status="error", error=f"malformed job: {exc}",
                                                   attempts=1).model_dump(mode="json")
            continue
        recorded = ledger.result(job.job_id)  # a shortcut only: `admit` decides, atomically
        if recorded is not None:
            out.finished[delivery.id] = json.loads(recorded)
        else:
            out.waiting.append((delivery, job))
    return out


def admit(admission: Admission, jobs: Sequence[Any], ledger: Ledger, max_attempts: int,
          result_cls: type[ResultBase]) -> list[Any]:
    """Admit waiting jobs just before the models start on them; the ones to run, in order.

    A job withdrawn (or answered) meanwhile gets its recorded result instead; one past `max_attempts`
    an error. A job this batch admitted already (a failed batch retried job by job) is not counted again.
    """
    run = []
    for job in jobs:
        if job.job_id in admission.attempts:
            run.append(job)
            continue
        if job.job_id in admission.answered:
            continue
        recorded, attempts = ledger.admit(job.job_id)  # atomic: a withdrawal that came first wins
        if recorded is not None:
            admission.answered[job.job_id] = json.loads(recorded)
        elif attempts > max_attempts:
            error = f"gave up after {attempts - 1} attempts: the job kept stopping its worker"
            admission.answered[job.job_id] = record(ledger, result_cls(job_id=job.job_id, status="error",
                                                                       error=error, attempts=attempts - 1))
        else:
            admission.attempts[job.job_id], admission.admitted_at[job.job_id] = attempts, time.monotonic()
            run.append(job)
    return run


def run_safely(jobs: list[Any], result_cls: type[ResultBase], run: Run) -> list[Any]:
    """Run the batch; if it fails, run its jobs one by one so only the failing ones report errors."""
    if not jobs:
        return []
    try:
        return run(jobs)
    except SoftTimeLimitExceeded:  # no time left to retry job by job: the hard limit is near
        log.error("a batch of %d jobs ran past the soft time limit", len(jobs))
        return [result_cls(job_id=job.job_id, status="error", error="it took longer than the time limit "
                           "(IMPLEMENTOR_TASK_SOFT_TIME_LIMIT_S)") for job in jobs]
    except ImplementorError as exc:  # ours, with an actionable message (a model that will not load): say it
        log.error("a batch of %d jobs failed: %s", len(jobs), exc)
        return [result_cls(job_id=job.job_id, status="error", error=str(exc)) for job in jobs]
    except Exception:
        if len(jobs) == 1:
            log.exception("job %s failed", jobs[0].job_id)
            return [result_cls(job_id=jobs[0].job_id, status="error",
                               error="the worker could not complete this job; see its log")]
        log.exception("a batch of %d jobs failed; running them one by one", len(jobs))
        return [r for job in jobs for r in run_safely([job], result_cls, run)]


def run_admitted(admission: Admission, result_cls: type[ResultBase], run: Run, ledger: Ledger,
                 max_attempts: int, ready: Callable[[], object] = lambda: None) -> None:
    """Ready the models, admit the waiting jobs, run them, and record each result once, into
    `admission.finished`. `run` gets the admitted jobs and returns a result for each."""

    def admitted_then_run(jobs: list[Any]) -> list[Any]:
        ready()  # the models load (first batch) before any job is admitted: all the while withdrawable
        go = admit(admission, jobs, ledger, max_attempts, result_cls)
        return run(go) if go else []

    results = {r.job_id: r for r in run_safely(admission.jobs(), result_cls, admitted_then_run)}
    for delivery, job in admission.waiting:
        if job.job_id in admission.answered:  # withdrawn, answered elsewhere or worn out when admitted
            admission.finished[delivery.id] = admission.answered[job.job_id]
            continue
        result = results[job.job_id]  # (an error for every job if the models could not get ready)
        if job.job_id in admission.attempts:
            result = result.model_copy(update={"attempts": admission.attempts[job.job_id]})
        admission.finished[delivery.id] = record(ledger, result)
