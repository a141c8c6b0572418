"""Cancel, against a real redis-server and worker process: a job withdrawn before its drafting starts is
never run, wherever it waits, and one whose drafting started is refused; and the figures the bot's
estimate of a wait reads (live workers, the median job time) come from the running stack.

The reported bug: six `/project` jobs waiting, one worker. The worker takes all six into one batch
(it holds up to `batch_max_size` unacknowledged jobs) and admitted them all as the batch formed; the
batch then spent its first seconds loading the models, and the sixth, withdrawn meanwhile, was
refused as "too late" and posted. Jobs are now admitted once the models are ready, just before the
drafting starts (`implementor/workers/admission.py`).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from local_stack import RedisServer, worker_process

from implementor.contracts.jobs import JobView, ProjectJob
from implementor.workers.client import JobClient

REQUEST = "Could someone help us plan a marketing strategy for the spring launch?"
BATCH = {"IMPLEMENTOR_BATCH_MAX_SIZE": "8", "IMPLEMENTOR_BATCH_WINDOW_S": "1.0"}

pytestmark = pytest.mark.slow  # a real stack: redis-server and a worker process

if shutil.which("redis-server") is None and not os.environ.get("CI"):
    pytest.skip("redis-server is not installed (CI installs it; locally: apt-get install redis-server)",
                allow_module_level=True)


@pytest.fixture
def ledger(server: RedisServer) -> redis.Redis:
    return redis.Redis(port=server.port, decode_responses=True)


@pytest.fixture(scope="module")
def stack(server: RedisServer, tiny_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One worker for the module, warmed up by one job (its models loaded)."""
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with worker_process(server.url, {**tiny_env, **BATCH}, log) as (client, worker):
        assert client.result(client.submit(ProjectJob(request=REQUEST)), timeout=180).status == "ok"
        yield client, worker


def jobs(prefix: str, count: int) -> list[ProjectJob]:
    return [ProjectJob(job_id=f"{prefix}-{i:04d}", request=f"{REQUEST} Item {i}.") for i in range(count)]


def wait_for(client: JobClient, job_id: str, until: Callable[[JobView], bool], timeout: float = 120) -> JobView:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = client.snapshot([job_id])[job_id]
        if until(view):
            return view
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} never got there; last seen {view}")


def never_run(client: JobClient, ledger: redis.Redis, job_id: str) -> None:
    result = client.result(job_id, timeout=180)
    assert (result.status, result.error) == ("cancelled", "cancelled by the member who asked")
    assert not ledger.exists(f"implementor:attempts:{job_id}")  # never admitted, so never drafted
    assert '"cancelled"' in (ledger.get(f"implementor:result:{job_id}") or "")  # and no other result


def all_ok(client: JobClient, ledger: redis.Redis, job_ids: list[str]) -> list[Any]:
    results = [client.result(job_id, timeout=180) for job_id in job_ids]
    assert [r.status for r in results] == ["ok"] * len(job_ids)
    assert [ledger.get(f"implementor:attempts:{j}") for j in job_ids] == ["1"] * len(job_ids)
    return results


def test_the_sixth_job_withdrawn_while_its_batch_loads_the_models_is_never_run(
        server: RedisServer, ledger: redis.Redis, tiny_env: dict[str, str], tmp_path: Path) -> None:
    with worker_process(server.url, {**tiny_env, **BATCH}, tmp_path / "worker.log") as (client, _):
        six = jobs("six", 6)
        for job in six:
            client.submit(job)
        last = six[-1].job_id
        # All six taken into one batch, which now loads the models (seconds here; a minute on a real GPU).
        view = wait_for(client, last, lambda v: v.state == "running")
        assert (view.stage, view.progress) == ("loading models", None)
        assert client.withdraw(last, "project")  # the bug: this said "too late"
        never_run(client, ledger, last)
        results = all_ok(client, ledger, [j.job_id for j in six[:-1]])
        assert len({r.timings_ms["draft_ms"] for r in results}) == 1  # the five were drafted as one batch
        assert client.live_workers() == 1
        seconds = client.job_seconds("project")
        assert seconds is not None and 0 < seconds < 120 and len(ledger.lrange("implementor:durations:project",
                                                                                0, -1)) == 5


def test_a_job_withdrawn_in_the_queue_behind_a_full_batch_is_never_run(stack: Any, ledger: redis.Redis) -> None:
    client, _ = stack
    first, behind = jobs("full", 8), jobs("behind", 3)
    for job in first:  # a full batch: it starts at once, and the worker may hold no more
        client.submit(job)
    wait_for(client, first[0].job_id, lambda v: v.state in ("running", "done"))
    for job in behind:
        client.submit(job)
    view = client.snapshot([behind[-1].job_id])[behind[-1].job_id]
    assert client.withdraw(behind[-1].job_id, "project"), view
    never_run(client, ledger, behind[-1].job_id)
    all_ok(client, ledger, [j.job_id for j in first + behind[:-1]])


def test_withdrawing_a_job_whose_drafting_started_is_refused(stack: Any, ledger: redis.Redis) -> None:
    client, _ = stack
    batch = jobs("started", 8)
    for job in batch:
        client.submit(job)
    last = batch[-1].job_id
    deadline = time.monotonic() + 120
    while not ledger.exists(f"implementor:attempts:{last}"):  # admitted: its drafting is starting
        assert time.monotonic() < deadline, "the job was never admitted"
        time.sleep(0.005)
    running = not ledger.exists(f"implementor:result:{last}")
    assert not client.withdraw(last, "project")
    assert running, "the batch finished before the withdrawal: nothing tested"
    all_ok(client, ledger, [j.job_id for j in batch])
    seen = client.snapshot([last])[last]
    assert seen.state == "done" and seen.result is not None and seen.result.status == "ok"
