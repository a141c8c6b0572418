"""The job client on its own: a withdrawal goes to the ledger the client was built with (in memory
embedded, Redis on the stack), what the result backend says of a job reads the same to `stage`,
`result` and the bot's snapshot (a running job's progress included), and the figures for an estimate
of a wait are there embedded too."""

from __future__ import annotations

import fakeredis
import pytest
from pydantic import SecretStr

from implementor.config.settings import Settings
from implementor.contracts.errors import ImplementorError
from implementor.contracts.jobs import ProjectResult
from implementor.workers.app import create_app
from implementor.workers.client import JobClient
from implementor.workers.ledger import Ledger, MemoryLedger, RedisLedger

# Nothing listens here: a client that reached for the broker to withdraw would fail.
UNREACHABLE = SecretStr("redis://127.0.0.1:1/0")


def embedded() -> tuple[JobClient, MemoryLedger]:
    ledger = MemoryLedger()
    return JobClient(create_app(Settings(), ledger), ledger), ledger


def withdraws_once(client: JobClient, ledger: Ledger) -> None:
    assert client.withdraw("job-withdrawn-1", "project")
    recorded = ProjectResult.model_validate_json(ledger.result("job-withdrawn-1") or "")
    assert (recorded.kind, recorded.status) == ("project", "cancelled")
    assert not client.withdraw("job-withdrawn-1", "project")  # withdrawn already: the first answer stands
    ledger.admit("job-admitted-1")  # a worker took it first: too late
    assert not client.withdraw("job-admitted-1", "introduce") and ledger.result("job-admitted-1") is None


def test_an_embedded_client_withdraws_in_the_embedded_ledger() -> None:
    client, ledger = embedded()  # no broker URL at all
    withdraws_once(client, ledger)


def test_a_stack_client_withdraws_in_its_own_ledger_not_one_it_opens() -> None:
    ledger = RedisLedger(fakeredis.FakeRedis(decode_responses=True), ttl_s=60)
    client = JobClient(create_app(Settings(broker_url=UNREACHABLE)), ledger)
    withdraws_once(client, ledger)


def store(client: JobClient, job_id: str, case: str) -> None:
    backend = client.app.backend
    if case == "started":  # Celery's own meta (task_track_started): no stage of ours
        backend.mark_as_started(job_id, pid=41, hostname="gpu1@host")
    elif case == "progress":
        backend.store_result(job_id, {"stage": "loading models"}, "PROGRESS")
    elif case == "drafting":
        backend.store_result(job_id, {"stage": "writing drafts", "progress": 0.25}, "PROGRESS")
    elif case == "success":
        backend.mark_as_done(job_id, ProjectResult(job_id=job_id, status="ok", reply="Yes.").model_dump(mode="json"))
    elif case == "failure":
        backend.mark_as_failure(job_id, ValueError("boom"))


@pytest.mark.parametrize(("case", "stage", "state"), [
    ("none", "queued", "unknown"), ("started", "generating", "running"), ("progress", "loading models", "running"),
    ("drafting", "writing drafts", "running"), ("success", "done", "done"), ("failure", "done", "done")])
def test_stage_and_snapshot_decode_the_backend_alike(case: str, stage: str, state: str) -> None:
    client, _ = embedded()
    job_id = f"job-{case}-0001"
    store(client, job_id, case)
    view = client._view(job_id, waiting=[], taken=set())
    assert (client.stage(job_id), view.state) == (stage, state)
    if state == "running":
        assert view.stage == stage and view.progress == (0.25 if case == "drafting" else None)
    if case == "success":
        assert view.result == client.result(job_id, timeout=1) and view.result is not None
        assert view.result.reply == "Yes."
    if case == "failure":
        assert view.result is None and (view.stage or "").startswith("failed in the worker: ValueError('boom')")
        with pytest.raises(ImplementorError, match="failed in the worker"):
            client.result(job_id, timeout=1)


def test_a_job_the_backend_has_not_seen_is_queued_where_the_broker_has_it() -> None:
    client, _ = embedded()
    view = client._view("job-waiting-0001", waiting=["job-older-0001", "job-waiting-0001"], taken={"job-taken-0001"})
    assert (client.stage("job-waiting-0001"), view.state, view.position) == ("queued", "queued", 3)


@pytest.mark.parametrize(("reported", "read"), [(0.5, 0.5), (1, 1.0), (1.2, 1.0), (-0.1, 0.0), ("half", None),
                                                (True, None), (float("nan"), None), (None, None)])
def test_a_reported_progress_reads_as_a_share_or_unknown(reported: object, read: float | None) -> None:
    client, _ = embedded()
    client.app.backend.store_result("job-share-0001", {"stage": "writing drafts", "progress": reported}, "PROGRESS")
    assert client._view("job-share-0001", waiting=[], taken=set()).progress == read


def test_an_embedded_client_has_its_one_worker_and_the_durations_it_recorded() -> None:
    client, ledger = embedded()
    assert client.live_workers() == 1  # the embedded worker thread; no broker to ask
    assert client.job_seconds("project") is None  # before any job finished
    ledger.add_durations("project", [4.0, 30.0, 5.0])
    ledger.add_durations("introduce", [12.0])
    assert client.job_seconds("project") == 5.0 and client.job_seconds("introduce") == 12.0
