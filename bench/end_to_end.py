"""Benchmark: `introduce` and `project` end to end through the embedded worker, PyTorch against the engine.

The same jobs a member's command makes (no seed, as the bot sends them) go through the real tasks on
the embedded broker, warm (models loaded before timing starts): with the writer drafting on the
PyTorch loop (the path before the engine) and on the engine the worker picks by default. Each job's
latency is submit to result; the figures are p50 and p95 per path, and the ratio of p50s.

    implementor bench e2e      (or: python -m bench.end_to_end)
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import machine, write_result
from config.settings import Settings
from contracts.jobs import IntroduceJob, ProjectJob
from workers.embedded import embedded_worker

REQUESTS = ("Could someone help us plan a marketing strategy for the spring launch at Fairweather Ltd?",
            "We need someone to inspect the ventilation systems before the refit at Harbour Mills.",
            "Can anyone help us migrate the payroll records before the audit in March?",
            "Our pilot has stalled because nobody can calibrate the laboratory equipment. Any takers?")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latencies(engine: str, jobs: int, models: dict[str, Any]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"introduce": [], "project": []}
    with embedded_worker(Settings(**models, writer_engine=engine, batch_window_s=0.01)) as client:
        client.result(client.submit(IntroduceJob()), timeout=600)  # warm: the models load here
        for i in range(jobs):
            for kind, job in (("introduce", IntroduceJob()), ("project", ProjectJob(request=REQUESTS[i % 4]))):
                start = time.perf_counter()
                client.result(client.submit(job), timeout=600)
                out[kind].append(time.perf_counter() - start)
    return out


def run_benchmark(jobs: int, out: Path | None, models: dict[str, Any] | None = None) -> dict[str, Any]:
    """`models`: settings naming other models than the bundled ones (the tests' tiny twins)."""
    measured = {engine: latencies(engine, jobs, models or {}) for engine in ("torch", "auto")}
    summary: dict[str, dict[str, dict[str, float]]] = {
        engine: {kind: {"p50_s": round(statistics.median(v), 3), "p95_s": round(percentile(v, 0.95), 3)}
                 for kind, v in runs.items()}
        for engine, runs in measured.items()}
    result: dict[str, Any] = {
        "benchmark": "end_to_end", "jobs_per_kind": jobs, "machine": machine("cpu"),
        "paths": {"torch": "the writer on the PyTorch loop", "auto": "the engine the worker picks by default"},
        "latency": summary,
        "speedup_p50": {kind: round(summary["torch"][kind]["p50_s"] / summary["auto"][kind]["p50_s"], 2)
                        for kind in ("introduce", "project")},
    }
    print(f"end to end, p50: introduce {result['speedup_p50']['introduce']}x, "
          f"project {result['speedup_p50']['project']}x faster on the engine")
    return write_result(result, out)


if __name__ == "__main__":
    run_benchmark(10, Path(__file__).parent / "results" / "end_to_end.json")
