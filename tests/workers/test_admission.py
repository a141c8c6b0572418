"""Admitting a batch: malformed jobs and known results are sorted out as it forms, and the rest are admitted
only once the models are ready, so that a job withdrawn until then never runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from implementor.contracts.errors import ConfigError
from implementor.contracts.jobs import ProjectJob, ProjectResult
from implementor.workers.admission import run_admitted, screen
from implementor.workers.ledger import MemoryLedger

REQUEST = "Could someone help us plan a marketing strategy for the spring launch?"
CANCELLED = ProjectResult(job_id="x", status="cancelled").model_dump_json()


@dataclass
class Delivery:
    id: str
    kwargs: dict[str, Any]
    args: list[Any] = field(default_factory=list)


def deliver(job: ProjectJob) -> Delivery:
    return Delivery(job.job_id, {"job": job.model_dump(mode="json")})


def answer(ran: list[str]) -> Any:
    def run(batch: list[ProjectJob]) -> list[ProjectResult]:
        ran.extend(j.job_id for j in batch)
        return [ProjectResult(job_id=j.job_id, status="ok", reply="fine") for j in batch]
    return run


def test_each_kind_of_delivery_is_sorted_out() -> None:
    ledger = MemoryLedger()
    fresh, known, worn = (ProjectJob(job_id=f"{kind}-0001", request=REQUEST) for kind in ("fresh", "known", "worn"))
    ledger.record(known.job_id, ProjectResult(job_id=known.job_id, status="ok", reply="recorded").model_dump_json())
    for _ in range(3):
        ledger.begin(worn.job_id)
    bad = Delivery("bad-0001", {"job": {"kind": "project", "request": 42}})
    admission = screen([deliver(fresh), deliver(known), deliver(worn), bad], ProjectJob, ProjectResult, ledger)
    assert [job.job_id for _, job in admission.waiting] == [fresh.job_id, worn.job_id]
    assert admission.finished[known.job_id]["reply"] == "recorded"
    assert admission.finished["bad-0001"]["error"].startswith("malformed job:")
    assert ledger.begin(fresh.job_id) == 1  # screening counts no attempt
    ran: list[str] = []
    run_admitted(admission, ProjectResult, answer(ran), ledger, max_attempts=3)
    assert ran == [fresh.job_id]
    assert "gave up after 3 attempts" in admission.finished[worn.job_id]["error"]
    assert admission.finished[fresh.job_id]["attempts"] == 2 and ledger.begin("bad-0001") == 1


def test_a_job_withdrawn_while_the_models_load_is_never_run() -> None:
    ledger = MemoryLedger()
    jobs = [ProjectJob(job_id=f"job-000{i}", request=REQUEST) for i in range(3)]
    admission = screen([deliver(j) for j in jobs], ProjectJob, ProjectResult, ledger)
    withdrawn: list[bool] = []

    def load_models() -> None:  # the member cancels the last job while the worker gets ready
        withdrawn.append(ledger.withdraw("job-0002", CANCELLED))

    ran: list[str] = []
    run_admitted(admission, ProjectResult, answer(ran), ledger, max_attempts=3, ready=load_models)
    assert withdrawn == [True] and ran == ["job-0000", "job-0001"]
    assert admission.finished["job-0002"]["status"] == "cancelled"
    assert ledger.begin("job-0002") == 1  # never admitted
    assert not ledger.withdraw("job-0001", CANCELLED)  # admitted: too late


def test_models_that_cannot_load_answer_every_job_and_admit_none() -> None:
    ledger = MemoryLedger()
    jobs = [ProjectJob(job_id=f"job-000{i}", request=REQUEST) for i in range(2)]
    admission = screen([deliver(j) for j in jobs], ProjectJob, ProjectResult, ledger)

    def broken() -> None:
        raise ConfigError("the writer's base is missing")

    run_admitted(admission, ProjectResult, answer([]), ledger, max_attempts=3, ready=broken)
    assert {r["status"] for r in admission.finished.values()} == {"error"}
    assert ledger.begin("job-0000") == 1


def test_a_failing_batch_is_retried_job_by_job_without_counting_again() -> None:
    ledger = MemoryLedger()
    jobs = [ProjectJob(job_id=f"job-000{i}", request=REQUEST) for i in range(3)]
    admission = screen([deliver(j) for j in jobs], ProjectJob, ProjectResult, ledger)

    def run(batch: list[ProjectJob]) -> list[ProjectResult]:
        if any(j.job_id == "job-0001" for j in batch):
            raise RuntimeError("this one breaks the model")
        return [ProjectResult(job_id=j.job_id, status="ok", reply="fine") for j in batch]

    run_admitted(admission, ProjectResult, run, ledger, max_attempts=3)
    statuses = {job_id: result["status"] for job_id, result in admission.finished.items()}
    assert statuses == {"job-0000": "ok", "job-0001": "error", "job-0002": "ok"}
    assert admission.finished["job-0000"]["attempts"] == 1 and ledger.begin("job-0000") == 2  # admitted once
    assert ledger.result("job-0002") is not None  # recorded once, for a redelivery to find
    assert sorted(admission.admitted_at) == ["job-0000", "job-0001", "job-0002"]
    assert len(admission.durations()) == 2  # the two that ended "ok"


def test_a_job_delivered_twice_into_one_batch_runs_once() -> None:
    ledger = MemoryLedger()
    job = ProjectJob(job_id="twice-0001", request=REQUEST)
    copy = Delivery("twice-copy", {"job": job.model_dump(mode="json")})
    admission = screen([deliver(job), copy], ProjectJob, ProjectResult, ledger)
    ran: list[str] = []
    run_admitted(admission, ProjectResult, answer(ran), ledger, max_attempts=3)
    assert ran == ["twice-0001"] and admission.finished["twice-0001"] == admission.finished["twice-copy"]
