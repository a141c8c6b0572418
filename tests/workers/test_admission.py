"""Admitting a batch: malformed jobs, known results and worn-out jobs are sorted out before any model runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from implementor.contracts.jobs import ProjectJob, ProjectResult
from implementor.workers.admission import admit, run_admitted
from implementor.workers.ledger import MemoryLedger

REQUEST = "Could someone help us plan a marketing strategy for the spring launch?"


@dataclass
class Delivery:
    id: str
    kwargs: dict[str, Any]
    args: list[Any] = field(default_factory=list)


def deliver(job: ProjectJob) -> Delivery:
    return Delivery(job.job_id, {"job": job.model_dump(mode="json")})


def test_each_kind_of_delivery_is_sorted_out() -> None:
    ledger = MemoryLedger()
    fresh, known, worn = (ProjectJob(job_id=f"{kind}-0001", request=REQUEST) for kind in ("fresh", "known", "worn"))
    ledger.record(known.job_id, ProjectResult(job_id=known.job_id, status="ok", reply="recorded").model_dump_json())
    for _ in range(3):
        ledger.begin(worn.job_id)
    bad = Delivery("bad-0001", {"job": {"kind": "project", "request": 42}})
    admission = admit([deliver(fresh), deliver(known), deliver(worn), bad], ProjectJob, ProjectResult, ledger,
                      max_attempts=3)
    assert [job.job_id for _, job, _ in admission.admitted] == [fresh.job_id]
    assert admission.finished[known.job_id]["reply"] == "recorded"
    assert "gave up after 3 attempts" in admission.finished[worn.job_id]["error"]
    assert admission.finished["bad-0001"]["error"].startswith("malformed job:")
    assert ledger.begin(fresh.job_id) == 2 and ledger.begin("bad-0001") == 1  # admitted once; never admitted


def test_a_failing_batch_is_retried_job_by_job() -> None:
    ledger = MemoryLedger()
    jobs = [ProjectJob(job_id=f"job-000{i}", request=REQUEST) for i in range(3)]
    admission = admit([deliver(j) for j in jobs], ProjectJob, ProjectResult, ledger, max_attempts=3)

    def run(batch: list[ProjectJob]) -> list[ProjectResult]:
        if any(j.job_id == "job-0001" for j in batch):
            raise RuntimeError("this one breaks the model")
        return [ProjectResult(job_id=j.job_id, status="ok", reply="fine") for j in batch]

    run_admitted(admission, ProjectResult, run, ledger)
    statuses = {job_id: result["status"] for job_id, result in admission.finished.items()}
    assert statuses == {"job-0000": "ok", "job-0001": "error", "job-0002": "ok"}
    assert admission.finished["job-0000"]["attempts"] == 1
    assert ledger.result("job-0002") is not None  # recorded once, for a redelivery to find
