"""Benchmark: the queue and the workers, end to end on this machine, in one run.

A redis-server on a free port and real worker processes (tests/support/local_stack.py), with the bundled
models unless IMPLEMENTOR_* settings say otherwise:
- queue overhead: a no-op job (`implementor.ping`) through Redis and a worker, against a direct call;
- cross-request batching: 16 concurrent `project` jobs on one worker process, batched (up to 16 per
  batch) against unbatched (one per batch): the throughput ratio is the figure to read;
- `introduce` end to end through Redis, with the default batching settings: p50 and p95 latency;
- a worker's resident memory with every model loaded, and its cold start (process start to first
  `introduce` result, model loading included).

    python -m bench queue
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from local_stack import children, redis_server, rss_mb, worker_process

from bench.common import machine, write_result
from implementor.contracts.jobs import IntroduceJob, ProjectJob
from implementor.workers.client import JobClient
from implementor.workers.names import GPU_QUEUE, PING_TASK

REQUESTS = [
    "Could someone help us plan a marketing strategy for the spring launch at Fairweather Ltd?",
    "We need someone to inspect the ventilation systems before the refit at Harbour Mills.",
    "Can anyone help us migrate the payroll records before the audit in March?",
    "Our pilot has stalled because nobody can calibrate the laboratory equipment. Any takers?",
]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _queue_overhead(client: JobClient, repeats: int) -> dict[str, float]:
    from celery.result import AsyncResult

    through_queue = []
    for _ in range(repeats):
        start = time.perf_counter()
        task_id = client.app.send_task(PING_TASK, queue=GPU_QUEUE).id
        AsyncResult(task_id, app=client.app).get(timeout=30)
        through_queue.append(time.perf_counter() - start)
    ping = client.app.tasks[PING_TASK]
    direct = []
    for _ in range(repeats):
        start = time.perf_counter()
        ping.run()
        direct.append(time.perf_counter() - start)
    return {"through_redis_and_worker_ms": _ms(statistics.median(through_queue)),
            "direct_call_ms": round(statistics.median(direct) * 1000, 4)}


def _throughput(client: JobClient, jobs: int) -> float:
    """Jobs per second for `jobs` project requests submitted at once."""
    client.result(client.submit(ProjectJob(request=REQUESTS[0])), timeout=600)  # warm: models loaded
    start = time.perf_counter()
    ids = [client.submit(ProjectJob(request=f"{REQUESTS[i % len(REQUESTS)]} (case {i})")) for i in range(jobs)]
    for job_id in ids:
        assert client.result(job_id, timeout=900).status == "ok"
    return jobs / (time.perf_counter() - start)


def run_benchmark(out: Path | None, jobs: int = 16, introductions: int = 20, pings: int = 50) -> dict[str, Any]:
    result: dict[str, Any] = {"benchmark": "queue", "machine": machine()}
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as server:
        started = time.perf_counter()
        with worker_process(server.url, {}, Path(tmp) / "default.log") as (client, worker):
            first = client.result(client.submit(IntroduceJob(seed=0)), timeout=900)
            assert first.status == "ok", first.error
            result["cold_start_s"] = round(time.perf_counter() - started, 2)
            result["worker_rss_mb"] = {"main": round(rss_mb(worker.pid), 1),
                                       "child_with_models": round(max(rss_mb(p) for p in children(worker.pid)), 1)}
            result["queue_overhead"] = _queue_overhead(client, pings)
            latencies = []
            for seed in range(1, introductions + 1):
                begin = time.perf_counter()
                assert client.result(client.submit(IntroduceJob(seed=seed)), timeout=900).status == "ok"
                latencies.append(time.perf_counter() - begin)
            quantiles = statistics.quantiles(latencies, n=20)
            result["introduce_latency_ms"] = {"p50": _ms(statistics.median(latencies)), "p95": _ms(quantiles[18]),
                                              "jobs": introductions}
        throughput = {}
        for name, size, window in (("batched", jobs, "0.3"), ("unbatched", 1, "0.3")):
            env = {"IMPLEMENTOR_BATCH_MAX_SIZE": str(size), "IMPLEMENTOR_BATCH_WINDOW_S": window}
            with worker_process(server.url, env, Path(tmp) / f"{name}.log") as (client, _):
                throughput[name] = _throughput(client, jobs)
        result["batching"] = {
            "concurrent_project_jobs": jobs,
            "jobs_per_s": {k: round(v, 3) for k, v in throughput.items()},
            "ratio_batched_over_unbatched": round(throughput["batched"] / throughput["unbatched"], 2),
        }
    print(f"queue: a no-op job takes {result['queue_overhead']['through_redis_and_worker_ms']} ms through Redis; "
          f"batching {jobs} concurrent project jobs gives {result['batching']['ratio_batched_over_unbatched']}x "
          f"the throughput; introduce p50 {result['introduce_latency_ms']['p50']} ms, "
          f"p95 {result['introduce_latency_ms']['p95']} ms")
    return write_result(result, out)
