"""Worker liveness on a real redis-server: the heartbeat lapses when a worker stops beating, a received job
names its holder, only a dead holder's claim is released, and the client calls a job orphaned only when
its holder is dead and it is not back in the queue."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from celery import signals
from local_stack import RedisServer
from pydantic import SecretStr

from implementor.config.settings import Settings
from implementor.workers import liveness
from implementor.workers.app import create_app
from implementor.workers.client import stack_client


class Consumer:
    """What Celery's signals are sent by, as far as liveness reads it (hashable, as senders must be)."""

    def __init__(self, app: object, hostname: str) -> None:
        self.app, self.hostname = app, hostname


@pytest.fixture
def client(server: RedisServer) -> redis.Redis:
    client = redis.Redis(port=server.port, decode_responses=True)
    client.flushdb()
    return client


def test_a_worker_that_stops_beating_reads_as_dead_within_its_ttl(client: redis.Redis) -> None:
    beat = liveness.Heartbeat(client, "gpu1@host/41", interval_s=0.2, ttl_s=1)
    beat.start()
    beat.hold("job-0001", ttl_s=60)
    time.sleep(1.5)  # several beats: the key outlives its one-second TTL while the worker beats
    assert liveness.holders(client, ["job-0001", "job-none"]) == {"job-0001": ("gpu1@host/41", True)}
    beat.stop()
    time.sleep(1.5)
    assert liveness.holders(client, ["job-0001"]) == {"job-0001": ("gpu1@host/41", False)}


def test_only_the_dead_holders_claim_is_released(client: redis.Redis) -> None:
    client.set(liveness.HOLDER_KEY.format("job-0001"), "gpu2@host/42")  # a new worker took it meanwhile
    assert not liveness.release(client, "job-0001", "gpu1@host/41")
    assert liveness.holders(client, ["job-0001"]) == {"job-0001": ("gpu2@host/42", False)}
    assert liveness.release(client, "job-0001", "gpu2@host/42")
    assert liveness.holders(client, ["job-0001"]) == {}


def test_a_received_job_names_the_worker_of_this_app_as_its_holder(client: redis.Redis, server: RedisServer) -> None:
    app = create_app(Settings(broker_url=SecretStr(server.url)))
    liveness.watch(app, client, holder_ttl_s=60)
    other = Consumer(object(), "other@host")
    signals.task_received.send(sender=other, request=SimpleNamespace(id="job-other"))
    assert liveness.holders(client, ["job-other"]) == {}  # another app's worker in this process: not ours

    consumer = Consumer(app, "gpu1@host")
    signals.task_received.send(sender=consumer, request=SimpleNamespace(id="job-0001"))
    name = liveness.worker_name("gpu1@host")
    assert liveness.holders(client, ["job-0001"]) == {"job-0001": (name, True)}  # beating from the first job
    assert 0 < client.ttl(liveness.WORKER_KEY.format(name)) <= liveness.TTL_S
    signals.worker_shutdown.send(sender=None)


def test_the_client_calls_a_job_orphaned_only_when_its_holder_is_dead(server: RedisServer, tmp_path: Path) -> None:
    jobs = stack_client(Settings(broker_url=SecretStr(server.url)))
    jobs.app.backend.store_result("job-running", {"stage": "generating"}, "PROGRESS")
    dead, alive = {"job-running": ("gpu1@host/41", False)}, {"job-running": ("gpu1@host/41", True)}
    assert jobs._view("job-running", [], set(), alive).state == "running"
    assert jobs._view("job-running", ["job-running"], set(), {}).state == "queued"  # its new copy, waiting
    orphan = jobs._view("job-running", [], set(), dead)
    assert (orphan.state, orphan.worker) == ("orphaned", "gpu1@host/41")
    # taken into a batch, not started yet: the same
    assert jobs._view("job-taken", [], {"job-taken"}, {"job-taken": ("gpu1@host/41", False)}).state == "orphaned"
    # back in the queue (a worker shutting down restores what it held): simply queued
    assert jobs._view("job-taken", ["job-taken"], set(), {"job-taken": ("gpu1@host/41", False)}).state == "queued"
    jobs.close()


def test_live_workers_counts_the_pool_processes_of_the_beating_workers_of_one_queue(
        client: redis.Redis, server: RedisServer) -> None:
    one = liveness.Heartbeat(client, "gpu1@host/41", interval_s=0.2, ttl_s=1, queues=["gpu"])
    pool = [2]  # an autoscaled pool: two processes, each running a batch at once
    two = liveness.Heartbeat(client, "gpu2@host/42", interval_s=0.2, ttl_s=1, queues=["gpu"],
                             processes=lambda: pool[0])
    learner = liveness.Heartbeat(client, "learn@host/50", interval_s=0.2, ttl_s=1, queues=["learn"])
    for beat in (one, two, learner):
        beat.start()
    assert liveness.live_workers(client, "gpu") == 3 and liveness.live_workers(client, "learn") == 1
    pool[0] = 1  # the autoscaler shrank it
    one.stop()
    time.sleep(1.5)  # one's key lapses; its name stays in the queue's set, and no longer counts
    assert liveness.live_workers(client, "gpu") == 1 and liveness.live_workers(client, "cpu") == 0
    jobs = stack_client(Settings(broker_url=SecretStr(server.url)))
    assert jobs.live_workers() == 1  # the client asks the broker's Redis
    jobs.close()
    for beat in (two, learner):
        beat.stop()
    client.set(liveness.WORKER_KEY.format("gpu1@host/41"), "1712345678.000")  # a beat that names no pool size
    assert liveness.live_workers(client, "gpu") == 2


def test_a_worker_started_for_the_gpu_queue_names_itself_there(client: redis.Redis, server: RedisServer) -> None:
    app = create_app(Settings(broker_url=SecretStr(server.url)))
    app.amqp.queues.select(["gpu"])  # what `-Q gpu` does before the consumer starts
    liveness.watch(app, client, holder_ttl_s=60)
    signals.worker_ready.send(sender=Consumer(app, "gpu1@host"))
    assert liveness.live_workers(client, "gpu") == 1
    assert client.zrange(liveness.QUEUE_KEY.format("gpu"), 0, -1) == [liveness.worker_name("gpu1@host")]
    signals.worker_shutdown.send(sender=None)
