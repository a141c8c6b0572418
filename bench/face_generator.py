"""Benchmark: face generator throughput at batch 1 against batch 64, measured side by side.

The same 64 faces are drawn twice per repetition, one call per face and then one call for all 64,
alternating so that both see the same machine state; the ratio is the figure to read. Absolute
images/s depend on the machine and are recorded as context.

    python -m bench face
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import torch

from bench.common import machine, write_result
from implementor.models.face.generator import FaceGenerator

BATCH = 64


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def run_benchmark(model: Path | str | None, device: str, repeats: int, out: Path | None) -> dict[str, Any]:
    """Time batch-1 and batch-64 generation `repeats` times each; write and return the result."""
    generator = FaceGenerator.load(model, device)
    seeds = list(range(BATCH))
    one_by_one = lambda: [generator.faces([s]) for s in seeds]  # noqa: E731
    batched = lambda: generator.faces(seeds)  # noqa: E731
    for _ in range(3):  # warm-up: allocator, kernels, lazy init
        one_by_one()
        batched()
    t_single, t_batch = [], []
    for _ in range(repeats):
        t_single.append(_timed(one_by_one))
        t_batch.append(_timed(batched))
    single_ips = BATCH / statistics.median(t_single)
    batch_ips = BATCH / statistics.median(t_batch)
    result = {
        "benchmark": "face_generator",
        "images_per_s": {"batch_1": round(single_ips, 1), "batch_64": round(batch_ips, 1)},
        "ratio_batch64_over_batch1": round(batch_ips / single_ips, 2),
        "repeats": repeats,
        "model": {**generator.config.to_dict(), "path": str(model or "bundled")},
        "machine": machine(str(generator.device)),
    }
    print(f"face generator: batch 64 gives {result['ratio_batch64_over_batch1']}x the images/s of batch 1 "
          f"({single_ips:.0f} -> {batch_ips:.0f} images/s on {generator.device})")
    return write_result(result, out)
