"""Against a real redis-server, with a real worker process: the stack's behaviour, end to end.

The module starts its own redis-server on a free port and a Celery worker subprocess (prefork,
one child) on it, with the tiny test models (tests/support/local_stack.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import time

import pytest
import redis
from local_stack import RedisServer, children, worker_process

from implementor.contracts.jobs import IntroduceJob, ProjectJob
from implementor.workers.client import JobClient

REQUEST = "Could someone help us plan a marketing strategy for the spring launch?"

pytestmark = pytest.mark.slow  # a real stack: redis-server and a worker process

if shutil.which("redis-server") is None and not os.environ.get("CI"):
    pytest.skip("redis-server is not installed (CI installs it; locally: apt-get install redis-server)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def stack(server: RedisServer, tiny_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with worker_process(server.url, {**tiny_env, "IMPLEMENTOR_BATCH_WINDOW_S": "0.2"}, log) as running:
        yield running


def test_introduce_and_project_run_on_a_worker_through_redis(stack) -> None:  # type: ignore[no-untyped-def]
    client: JobClient = stack[0]
    intro_id = client.submit(IntroduceJob(name="Ada Lovelace", title="Data Scientist", seed=3))
    project_id = client.submit(ProjectJob(request=REQUEST))
    intro, reply = client.result(intro_id, timeout=180), client.result(project_id, timeout=180)
    assert intro.status == "ok" and intro.profile.name == "Ada Lovelace"  # type: ignore[union-attr]
    assert reply.status == "ok" and reply.reply  # type: ignore[union-attr]


def test_a_killed_worker_child_does_not_lose_or_repeat_the_job(stack, server: RedisServer) -> None:  # type: ignore[no-untyped-def]
    client, worker = stack
    client.app.control.pool_restart(reload=False)  # a fresh child, which must load its models again
    time.sleep(2)
    job = ProjectJob(job_id="killed-0001", request=REQUEST)
    client.submit(job)
    ledger = redis.Redis(port=server.port, decode_responses=True)
    deadline = time.monotonic() + 60
    while not ledger.exists("implementor:attempts:killed-0001"):  # admitted: the models are on it
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.005)
    killed = children(worker.pid)
    assert killed
    for child in killed:
        os.kill(child, signal.SIGKILL)  # mid-task: the child is running the models on it
    result = client.result(job.job_id, timeout=180)
    assert result.status == "ok" and result.reply
    assert result.attempts == 2  # it ran again after the kill ...
    assert ledger.get("implementor:attempts:killed-0001") == "2"
    assert ledger.exists("implementor:result:killed-0001") == 1  # ... and was recorded once
    assert ledger.llen("gpu") == 0  # nothing left behind in the queue


def test_a_malformed_payload_is_rejected_once(stack, server: RedisServer) -> None:  # type: ignore[no-untyped-def]
    client = stack[0]
    client.app.send_task("implementor.introduce", kwargs={"job": {"kind": "introduce", "seed": "many"}},
                         task_id="malformed-0002", queue="gpu")
    result = client.result("malformed-0002", timeout=60)
    assert result.status == "error" and "malformed job" in result.error
    time.sleep(1.0)
    ledger = redis.Redis(port=server.port, decode_responses=True)
    assert ledger.llen("gpu") == 0 and not ledger.exists("implementor:attempts:malformed-0002")


def test_jobs_complete_after_redis_restarts(stack, server: RedisServer) -> None:  # type: ignore[no-untyped-def]
    client, worker = stack
    server.stop()
    time.sleep(1.0)
    server.start()
    result = client.result(client.submit(ProjectJob(request=REQUEST)), timeout=120)
    assert result.status == "ok" and worker.poll() is None


def test_a_closed_client_lets_go_of_results_without_the_broker(tiny_env: dict[str, str],
                                                               tmp_path_factory: pytest.TempPathFactory) -> None:
    """Results dropped after close() and after Redis has gone must not retry against it (20 s, then an error)."""
    own = RedisServer(tmp_path_factory.mktemp("redis-gone"))
    own.start()
    try:
        log = tmp_path_factory.mktemp("worker-gone") / "worker.log"
        with worker_process(own.url, tiny_env, log) as (client, _):
            handle = client.app.AsyncResult(client.submit(ProjectJob(request=REQUEST)))
            # Subscribes the client's result consumer to this job's channel. (Earlier tests ran a worker in this
            # process, after which Celery refuses a plain get() as if it were called inside a task.)
            handle.get(timeout=180, disable_sync_subtasks=False)
    finally:
        own.stop()
    from unittest import mock

    import redis.connection

    with mock.patch.object(redis.connection.AbstractConnection, "connect") as connect:
        client.app.backend.remove_pending_result(handle)  # what AsyncResult.__del__ does
    assert connect.call_count == 0  # it did not try to reach the broker that is gone (nor retry for 20 s)
