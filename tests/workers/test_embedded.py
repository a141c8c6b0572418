"""The tasks through a real (embedded) Celery worker, with the tiny test models."""

from __future__ import annotations

import base64
import json

import pytest

from implementor.config.settings import Settings
from implementor.contracts.jobs import IntroduceJob, IntroduceResult, ProjectJob, ProjectResult
from implementor.workers.embedded import embedded_worker
from implementor.workers.ledger import MemoryLedger

REQUEST = "Could someone help us plan a marketing strategy for the spring launch?"


@pytest.fixture(scope="module")
def ledger() -> MemoryLedger:
    """The ledger the embedded worker records in, handed to it (and so readable by the tests)."""
    return MemoryLedger()


@pytest.fixture(scope="module")
def client(tiny_env: dict[str, str], ledger: MemoryLedger):  # type: ignore[no-untyped-def]
    settings = Settings(**{k.removeprefix("IMPLEMENTOR_").lower(): v for k, v in tiny_env.items()},
                        batch_window_s=0.3)
    with embedded_worker(settings, ledger=ledger) as job_client:
        yield job_client


def test_introduce_returns_a_persona_with_a_face_and_a_cv(client) -> None:  # type: ignore[no-untyped-def]
    job = IntroduceJob(name="Ada Lovelace", title="Data Scientist", seed=7)
    result = client.result(client.submit(job), timeout=120)
    assert isinstance(result, IntroduceResult) and result.status == "ok"
    assert result.profile is not None and result.profile.seed == 7 and result.profile.name == "Ada Lovelace"
    assert base64.b64decode(result.profile.png_base64)[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.profile.face_px == 32 and result.profile.shown_small  # the tiny face is shown as a thumbnail
    assert result.profile.cv and len(result.candidates) >= 1
    assert sum(c.chosen for c in result.candidates) == 1
    assert {"face_ms", "draft_ms", "rerank_ms"} <= result.timings_ms.keys()


def test_a_persona_left_blank_is_filled_from_its_seed(client) -> None:  # type: ignore[no-untyped-def]
    first = client.result(client.submit(IntroduceJob(seed=42)), timeout=120)
    again = client.result(client.submit(IntroduceJob(seed=42)), timeout=120)
    assert first.profile.name == again.profile.name and first.profile.title == again.profile.title
    assert first.profile.png_base64 == again.profile.png_base64  # same seed, same face


def test_project_returns_the_chosen_reply_and_every_score(client) -> None:  # type: ignore[no-untyped-def]
    result = client.result(client.submit(ProjectJob(request=REQUEST)), timeout=120)
    assert isinstance(result, ProjectResult) and result.status == "ok" and result.reply
    assert result.reply in [c.text for c in result.candidates if c.chosen]
    # the candidate log: every draft with the probability that the policy posts it (exploration included)
    assert sum(c.propensity or 0 for c in result.candidates) == pytest.approx(1.0, abs=1e-3)
    [posted] = [c for c in result.candidates if c.chosen]
    assert (posted.propensity or 0) > 0 and result.explored == posted.reason.startswith("chosen to explore")


def test_jobs_arriving_together_are_run_as_one_batch(client) -> None:  # type: ignore[no-untyped-def]
    jobs = [ProjectJob(request=f"{REQUEST} Item {i}.") for i in range(4)]
    ids = [client.submit(job) for job in jobs]
    results = [client.result(job_id, timeout=120) for job_id in ids]
    assert all(r.status == "ok" for r in results)
    # One batch, one set of timings shared by its jobs.
    assert len({json.dumps(r.timings_ms, sort_keys=True) for r in results}) == 1


def test_a_job_sent_twice_yields_one_result(client, ledger: MemoryLedger) -> None:  # type: ignore[no-untyped-def]
    job = ProjectJob(job_id="twice-0001", request=REQUEST)
    first = client.result(client.submit(job), timeout=120)
    client.app.backend.forget(job.job_id)  # as if the first result had been lost in transit
    second = client.result(client.submit(job), timeout=120)
    assert second == first
    assert ledger.begin("twice-0001") == 2  # it ran once; the second delivery read the ledger


def test_a_malformed_payload_gets_a_clear_error_and_no_retry(client, ledger: MemoryLedger) -> None:  # type: ignore[no-untyped-def]
    client.app.send_task("implementor.project", kwargs={"job": {"kind": "project", "request": 42}},
                         task_id="malformed-0001", queue="gpu")
    result = client.result("malformed-0001", timeout=60)
    assert result.status == "error" and result.error.startswith("malformed job:")
    assert ledger.begin("malformed-0001") == 1  # never admitted, so never attempted


def test_a_job_that_keeps_killing_its_worker_gives_up(client, ledger: MemoryLedger) -> None:  # type: ignore[no-untyped-def]
    job = ProjectJob(job_id="doomed-0001", request=REQUEST)
    for _ in range(3):  # three earlier deliveries died mid-job (max_attempts is 3)
        ledger.begin(job.job_id)
    result = client.result(client.submit(job), timeout=60)
    assert result.status == "error" and "gave up after 3 attempts" in result.error
