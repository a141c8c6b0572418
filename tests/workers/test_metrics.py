"""The workers' Prometheus metrics: recorded per batch from its results, and served by a real prefork
worker's main process with its pool processes' figures added up (implementor/workers/metrics.py)."""

from __future__ import annotations

import os
import shutil
import socket
import time
import urllib.request
from pathlib import Path

import pytest
from local_stack import RedisServer, worker_process
from prometheus_client.parser import text_string_to_metric_families

from implementor.contracts.jobs import IntroduceJob, IntroduceResult, ProjectJob
from implementor.contracts.scores import CandidateScore
from implementor.workers.metrics import WorkerMetrics


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def test_a_batch_records_its_size_its_stages_and_the_drafts_over_the_threshold() -> None:
    metrics = WorkerMetrics()
    drafts = [CandidateScore(text="a", p_real=p, quality=3.0, chosen=p == 0.95, reason="") for p in (0.95, 0.5, 0.91)]
    results = [IntroduceResult(job_id=f"j{i}", status="ok", timings_ms={"face_ms": 20.0, "draft_ms": 300.0},
                               candidates=drafts) for i in range(2)]
    metrics.batch("introduce", [*results, IntroduceResult(job_id="x", status="error", error="no")], 0.9)
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value for m in metrics.registry.collect() for s in m.samples}
    assert got[("implementor_worker_batch_size_sum", (("task", "introduce"),))] == 2  # the error is not a draft
    assert got[("implementor_worker_stage_seconds_sum", (("stage", "draft"), ("task", "introduce")))] == 0.3
    assert got[("implementor_worker_drafts_total", (("task", "introduce"),))] == 6
    assert got[("implementor_worker_drafts_passing_total", (("task", "introduce"),))] == 4


@pytest.mark.slow  # a real stack: redis-server and a prefork worker
@pytest.mark.skipif(shutil.which("redis-server") is None and not os.environ.get("CI"),
                    reason="redis-server is not installed (CI installs it)")
def test_a_prefork_worker_serves_its_pool_processes_figures(tiny_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    server = RedisServer(tmp_path / "redis")
    (tmp_path / "redis").mkdir()
    server.start()
    env = {**tiny_env, "IMPLEMENTOR_BATCH_WINDOW_S": "0.1", "IMPLEMENTOR_WORKER_METRICS_PORT": str(port),
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    try:
        with worker_process(server.url, env, tmp_path / "worker.log", concurrency=2) as (client, _):
            for job in (IntroduceJob(seed=3), ProjectJob(request="Could someone help us plan the spring launch?")):
                assert client.result(client.submit(job), timeout=180).status == "ok"
            deadline = time.monotonic() + 10
            while True:  # the endpoint answers as soon as the worker's main process started
                try:
                    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
    finally:
        server.stop()
    got = samples(body)
    for task in ("introduce", "project"):
        assert got[("implementor_worker_batch_size_count", (("task", task),))] >= 1, task
        assert got[("implementor_worker_drafts_total", (("task", task),))] >= 3, task  # tiny_env: 3 candidates
        assert ("implementor_worker_drafts_passing_total", (("task", task),)) in got
        assert got[("implementor_worker_stage_seconds_count", (("stage", "draft"), ("task", task)))] >= 1
    assert got[("implementor_worker_stage_seconds_count", (("stage", "face"), ("task", "introduce")))] >= 1
