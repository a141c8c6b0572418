"""Admitting and recording a batch of jobs: what makes a batched task idempotent and bounded.

Per job of a batch:
- a payload that is not a valid job gets an error result at once and is never retried;
- a job already recorded in the ledger returns its recorded result (a job that runs twice yields
  one result; a job withdrawn by its member answers "cancelled" and never runs);
- a job started more than `max_attempts` times (its worker keeps dying) gets an error result;
- the rest are admitted, run together, and each result is recorded once (first writer wins);
- a batch that fails is retried job by job, so one bad job cannot sink its neighbours.

Nothing here knows about models: the caller passes the function that runs the admitted jobs.
"""

from __future__ import annotations

import json
import logging
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
    """A batch sorted out: results already known, and jobs to run (with their attempt numbers)."""

    finished: dict[str, dict[str, Any]] = field(default_factory=dict)
    admitted: list[tuple[Delivery, Any, int]] = field(default_factory=list)


def decode(delivery: Delivery, schema: JobSchema) -> IntroduceJob | ProjectJob:
    payload = delivery.kwargs.get("job") if delivery.kwargs else (delivery.args[0] if delivery.args else None)
    if isinstance(payload, str):
        payload = json.loads(payload)
    return schema.model_validate(payload)


def record(ledger: Ledger, result: ResultBase) -> dict[str, Any]:
    """Record a result unless one exists; return the recorded one (the first) as JSON data."""
    recorded: dict[str, Any] = json.loads(ledger.record(result.job_id, result.model_dump_json()))
    return recorded


def admit(deliveries: Sequence[Delivery], schema: JobSchema, result_cls: type[ResultBase], ledger: Ledger,
          max_attempts: int) -> Admission:
    """Sort a batch into known results and jobs to run; counts an attempt for each job admitted."""
    out = Admission()
    for delivery in deliveries:
        try:
            job = decode(delivery, schema)
        except (ValidationError, ValueError, TypeError) as exc:
            log.warning("rejecting malformed job %s: %s", delivery.id, exc)
            out.finished[delivery.id] = result_cls(job_id=delivery.id, status="error", error=f"malformed job: {exc}",
                                                   attempts=1).model_dump(mode="json")
            continue
        recorded, attempts = ledger.admit(job.job_id)  # atomic: a withdrawal that came first wins
        if recorded is not None:
            out.finished[delivery.id] = json.loads(recorded)
            continue
        if attempts > max_attempts:
            error = f"gave up after {attempts - 1} attempts: the job kept stopping its worker"
            out.finished[delivery.id] = record(ledger, result_cls(job_id=job.job_id, status="error", error=error,
                                                                  attempts=attempts - 1))
            continue
        out.admitted.append((delivery, job, attempts))
    return out


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


def run_admitted(admission: Admission, result_cls: type[ResultBase], run: Run, ledger: Ledger) -> None:
    """Run the admitted jobs and record each result once, into `admission.finished`."""
    jobs = [job for _, job, _ in admission.admitted]
    for (delivery, _job, attempts), result in zip(admission.admitted, run_safely(jobs, result_cls, run),
                                                  strict=True):
        admission.finished[delivery.id] = record(ledger, result.model_copy(update={"attempts": attempts}))
