"""Benchmark: `introduce` and `project` end to end through the embedded worker, on each CPU engine.

The same jobs a member's command makes (no seed, as the bot sends them) go through the real tasks on
the embedded broker, warm (models loaded before timing starts), on three paths in alternating blocks:
- `ctranslate2`: the writer on CTranslate2 int8 (the engine before llama.cpp, and what `auto`
  falls back to where llama-cpp-python is not built);
- `auto`: the engine the worker picks by default (llama.cpp on a CPU, where it is built), with the
  default settings: once an introduction's 4 CV drafts have written their Profile, the realism
  head's best goes on alone, and its second best only if the first breaks the CV's rules or fails
  the realism threshold (`IMPLEMENTOR_CV_KEEP`);
- `auto_every_draft`: the same engine with every CV draft written to its end.
The PyTorch loop is left out: on the 135M writer one `introduce` takes it over half a minute.
Each job's latency is submit to result; the figures are p50 and p95 per path, the ratios of p50s,
and the median time of each stage the jobs report (face, drafting, reranking).

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


# Each path's settings: the engine, and how many CV drafts go on past their Profile (Settings.cv_keep).
PATHS: dict[str, dict[str, Any]] = {"ctranslate2": {"writer_engine": "ctranslate2"}, "auto": {"writer_engine": "auto"},
                                    "auto_every_draft": {"writer_engine": "auto", "cv_keep": 0}}


Measured = dict[str, dict[str, list[float]]]  # path -> kind -> seconds per job
Stages = dict[str, dict[str, list[dict[str, float]]]]  # path -> kind -> each job's stage timings (ms)


def latencies(jobs: int, models: dict[str, Any], cycles: int = 2) -> tuple[Measured, Stages]:
    """Each path on its own embedded worker, one at a time (kombu's in-memory broker is shared by every
    worker of a process, so two alive at once would take each other's jobs), in `cycles` alternating
    blocks so that a slow spell of the machine falls on every path. Every job is new (its own id)."""
    out: Measured = {path: {"introduce": [], "project": []} for path in PATHS}
    stages: Stages = {path: {"introduce": [], "project": []} for path in PATHS}
    per_block = [jobs // cycles + (1 if c < jobs % cycles else 0) for c in range(cycles)]
    for block in per_block:
        for path, chosen in PATHS.items():
            with embedded_worker(Settings(**{**models, **chosen}, batch_window_s=0.01)) as client:
                client.result(client.submit(IntroduceJob()), timeout=600)  # warm: the models load here
                for i in range(block):
                    for kind, job in (("introduce", IntroduceJob()),
                                      ("project", ProjectJob(request=REQUESTS[i % len(REQUESTS)]))):
                        start = time.perf_counter()
                        result = client.result(client.submit(job), timeout=600)
                        out[path][kind].append(time.perf_counter() - start)
                        stages[path][kind].append(dict(result.timings_ms))
                        if result.job_id != job.job_id or result.status != "ok":
                            raise RuntimeError(f"{path}: job {job.job_id} came back as {result.job_id} "
                                               f"({result.status})")
    return out, stages


def stage_medians(timings: list[dict[str, float]]) -> dict[str, float]:
    """The median of each stage the jobs timed (face, drafting, reranking), in ms."""
    names = sorted({name for job in timings for name in job})
    return {name: round(statistics.median(job[name] for job in timings if name in job), 1) for name in names}


def run_benchmark(jobs: int, out: Path | None, models: dict[str, Any] | None = None) -> dict[str, Any]:
    """`models`: settings naming other models than the bundled ones (the tests' tiny twins)."""
    measured, stages = latencies(jobs, models or {})
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
                  "auto": "the engine the worker picks by default",
                  "auto_every_draft": "the same, every CV draft written to its end (IMPLEMENTOR_CV_KEEP=0)"},
        "latency": summary,
        "stages_ms_p50": {path: {kind: stage_medians(v) for kind, v in runs.items()} for path, runs in stages.items()},
        "speedup_p50": ratio("ctranslate2", "auto"),
        "pruning_speedup_p50": ratio("auto_every_draft", "auto"),
    }
    auto = summary["auto"]
    print(f"end to end, p50: introduce {auto['introduce']['p50_s']} s, project {auto['project']['p50_s']} s; "
          f"{result['speedup_p50']['introduce']}x / {result['speedup_p50']['project']}x CTranslate2's")
    return write_result(result, out)
