"""Benchmark: scoring 8 drafts with both heads in one batch, against one draft at a time.

The drafts are 8 replies from the bundled corpus's test split, scored for their own request. Both
ways run in one process, interleaved; the ratio is the figure to read, milliseconds per draft are
context. With both heads on one frozen encoder, a batch costs one encoder pass for both.

    python -m bench rerank
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import machine, write_result
from implementor.contracts.records import PairRecord
from implementor.models import BUNDLED
from implementor.models.rerank.reranker import Reranker
from implementor.training.corpus.splits import load_split

CANDIDATES = 8
CORPUS = BUNDLED / "writer-corpus"


def run_benchmark(realism: Path | None, quality: Path | None, encoder: str, device: str, repeats: int,
                  out: Path | None) -> dict[str, Any]:
    reranker = Reranker.load(realism, quality, encoder, device)
    pairs = [r for r in load_split(CORPUS, "test") if isinstance(r, PairRecord)][:CANDIDATES]
    request, drafts = pairs[0].request, [p.reply for p in pairs]

    def batched() -> None:
        reranker.scores(request, drafts)

    def one_at_a_time() -> None:
        for draft in drafts:
            reranker.scores(request, [draft])

    for fn in (batched, one_at_a_time):  # warm-up
        fn()
    times: dict[str, list[float]] = {"batched": [], "one_at_a_time": []}
    for _ in range(repeats):
        for name, fn in (("batched", batched), ("one_at_a_time", one_at_a_time)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    ms = {k: statistics.median(v) / CANDIDATES * 1000 for k, v in times.items()}
    device_name = str(reranker.realism.encoder.device)
    result = {
        "benchmark": "rerank",
        "candidates": CANDIDATES,
        "repeats": repeats,
        "ms_per_candidate": {k: round(v, 2) for k, v in ms.items()},
        "speedup_batched_over_one_at_a_time": round(ms["one_at_a_time"] / ms["batched"], 2),
        "shared_encoder_pass": reranker.shared,
        "encoder": encoder,
        "machine": machine(device_name),
    }
    print(f"rerank: scoring {CANDIDATES} drafts in one batch is {result['speedup_batched_over_one_at_a_time']}x "
          f"one at a time ({ms['batched']:.1f} vs {ms['one_at_a_time']:.1f} ms per draft on {device_name})")
    return write_result(result, out)
