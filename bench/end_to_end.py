"""Benchmark: `introduce` and `project` end to end through the embedded worker, on each CPU engine.

The same jobs a member's command makes (no seed, as the bot sends them) go through the real tasks on
the embedded broker, warm (models loaded before timing starts), on two paths in alternating blocks:
- `ctranslate2`: the writer on CTranslate2 int8 (the engine before llama.cpp, and what `auto`
  falls back to where llama-cpp-python is not built);
- `auto`: the engine the worker picks by default (llama.cpp on a CPU, where it is built).
The PyTorch loop is left out: on the 135M writer one `introduce` takes it over half a minute.
Each job's latency is submit to result; the figures are p50 and p95 per path, and the ratio of p50s.

    python -m bench e2e
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import machine, write_result
from implementor.config.settings import Settings
from implementor.contracts.jobs import IntroduceJob, ProjectJob
from implementor.workers.embedded import embedded_worker

REQUESTS = ("Could someone help us plan a marketing strategy for the spring launch at Fairweather Ltd?",
            "We need someone to inspect the ventilation systems before the refit at Harbour Mills.",
            "Can anyone help us migrate the payroll records before the audit in March?",
            "Our pilot has stalled because nobody can calibrate the laboratory equipment. Any takers?")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


PATHS = {"ctranslate2": ("ctranslate2", None), "auto": ("auto", None)}  # engine, polling (None: the default)


def latencies(jobs: int, models: dict[str, Any], cycles: int = 2) -> dict[str, dict[str, list[float]]]:
    """Each path on its own embedded worker, one at a time (kombu's in-memory broker is shared by every
    worker of a process, so two alive at once would take each other's jobs), in `cycles` alternating
    blocks so that a slow spell of the machine falls on every path. Every job is new (its own id)."""
    out: dict[str, dict[str, list[float]]] = {path: {"introduce": [], "project": []} for path in PATHS}
    per_block = [jobs // cycles + (1 if c < jobs % cycles else 0) for c in range(cycles)]
    for block in per_block:
        for path, (engine, poll) in PATHS.items():
            with embedded_worker(Settings(**models, writer_engine=engine, batch_window_s=0.01), poll_s=poll) as client:
                client.result(client.submit(IntroduceJob()), timeout=600)  # warm: the models load here
                for i in range(block):
                    for kind, job in (("introduce", IntroduceJob()),
                                      ("project", ProjectJob(request=REQUESTS[i % len(REQUESTS)]))):
                        start = time.perf_counter()
                        result = client.result(client.submit(job), timeout=600)
                        out[path][kind].append(time.perf_counter() - start)
                        if result.job_id != job.job_id or result.status != "ok":
                            raise RuntimeError(f"{path}: job {job.job_id} came back as {result.job_id} "
                                               f"({result.status})")
    return out


def run_benchmark(jobs: int, out: Path | None, models: dict[str, Any] | None = None) -> dict[str, Any]:
    """`models`: settings naming other models than the bundled ones (the tests' tiny twins)."""
    measured = latencies(jobs, models or {})
    summary: dict[str, dict[str, dict[str, float]]] = {
        path: {kind: {"p50_s": round(statistics.median(v), 3), "p95_s": round(percentile(v, 0.95), 3)}
               for kind, v in runs.items()}
        for path, runs in measured.items()}

    def ratio(slow: str, fast: str) -> dict[str, float]:
        return {kind: round(summary[slow][kind]["p50_s"] / summary[fast][kind]["p50_s"], 2)
                for kind in ("introduce", "project")}

    result: dict[str, Any] = {
        "benchmark": "end_to_end", "jobs_per_kind": jobs, "machine": machine("cpu"),
        "paths": {"ctranslate2": "the writer on CTranslate2 int8",
                  "auto": "the engine the worker picks by default"},
        "latency": summary,
        "speedup_p50": ratio("ctranslate2", "auto"),
    }
    auto = summary["auto"]
    print(f"end to end, p50: introduce {auto['introduce']['p50_s']} s, project {auto['project']['p50_s']} s; "
          f"{result['speedup_p50']['introduce']}x / {result['speedup_p50']['project']}x CTranslate2's")
    return write_result(result, out)
