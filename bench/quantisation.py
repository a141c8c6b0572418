"""Benchmark: the GGUF copy's quantisation, weighed by quality and by speed, side by side in one run.

The bundled writer's merged model is written as GGUF in each quantisation (`llama_file.QUANTISATIONS`:
Q8_0, the shipped one; Q4_1, the base file's own type; Q4_0_FFN, 4-bit feed-forward matrices; Q4_0,
4-bit everywhere but the embedding; F32 as the reference) and each copy is measured:
- quality: the mean negative log-likelihood (nats a token) of real completions, `texts` CVs and
  `texts` replies of the validation split, under llama.cpp's logits (llama-cpp-python's `Llama`
  with every position's logits), and its ratio to the float32 copy's;
- speed: the project's engine (`LlamaCppEngine`) on that copy, drafting as the worker does: 4 CV
  drafts of 128 tokens, 6 replies of 64, and 16 reply jobs of 6 drafts x 32 in one call; medians of
  interleaved repeats (each repeat runs every copy in turn), and each as a ratio to Q8_0.
Q4_0 is what llama.cpp repacks for its fast AVX2/AVX-512 matrix kernels (Q4_1 it does not); Q4_1 is
the type the package's base ships in, so the merged base's weights lie on its grid, and only the
adapter's change is rounded. The float32 copy is measured for quality only.

    python -m bench quantisation
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import machine, write_result
from bench.llama_plain import gguf_weights, plain_llama
from implementor.contracts.errors import InputError
from implementor.contracts.records import CVRecord, PairRecord, Record
from implementor.models.writer.llama_engine import LlamaCppEngine
from implementor.models.writer.llama_file import GGUF_FILE, base_gguf, write_gguf
from implementor.models.writer.model import Writer
from implementor.models.writer.prompts import format_prompt
from implementor.training.corpus.splits import BUNDLED_CORPUS, load_split

TIMED = ("Q8_0", "Q4_1", "Q4_0_FFN", "Q4_0")
REFERENCE = "F32"
REQUESTS = ("Could someone plan the spring campaign before the launch at Acme? We have {} weeks.",
            "We need someone to audit the supplier contracts at Harbour Mills within {} weeks.")


def completion_nll(path: Path, writer: Writer, records: Sequence[Record]) -> float:
    """Mean negative log-likelihood a token of the records' completions (their end token included)."""
    fmt, tokenizer = writer.format, writer.tokenizer
    prompts = [(format_prompt(fmt, r), r) for r in records]
    pairs = [(len(tokenizer(p)["input_ids"]), tokenizer(p + fmt.completion(r) + fmt.end)["input_ids"])
             for p, r in prompts]
    llm = plain_llama(path, n_ctx=max(len(ids) for _, ids in pairs) + 8, logits_all=True)
    total, count = 0.0, 0
    for start, ids in pairs:
        llm.reset()
        llm.eval(ids)
        scores = np.asarray(llm.scores[: len(ids)], dtype=np.float64)
        for i in range(start - 1, len(ids) - 1):
            row = scores[i]
            top = row.max()
            total += top + math.log(np.exp(row - top).sum()) - row[ids[i + 1]]
            count += 1
    return total / count


def drafting_runs(writer: Writer, engine: LlamaCppEngine) -> dict[str, Callable[[], None]]:
    cv = writer.tokenizer(writer.format.cv("Ada Moss", "electrician"))["input_ids"]
    replies = [writer.tokenizer(writer.format.reply(REQUESTS[i % 2].format(i + 2)))["input_ids"] for i in range(16)]

    def run(prompts: list[list[int]], n: int, tokens: int) -> Callable[[], None]:
        fixed = replace(writer.sampling.reply, max_new_tokens=tokens)

        def draft() -> None:
            engine.sample(prompts, n, fixed, None, min_new_tokens=tokens)

        return draft

    return {"cv_4x128": run([cv], 4, 128), "reply_6x64": run(replies[:1], 6, 64),
            "batch_16x6x32": run(replies, 6, 32)}


def timed(runs: dict[str, dict[str, Callable[[], None]]], repeats: int) -> dict[str, dict[str, float]]:
    """Median seconds of every (copy, shape), repeats interleaved across copies; one warm-up each."""
    seconds: dict[str, dict[str, list[float]]] = {q: {shape: [] for shape in r} for q, r in runs.items()}
    for shapes in runs.values():
        for run in shapes.values():
            run()
    for _ in range(repeats):
        for q, shapes in runs.items():
            for shape, run in shapes.items():
                start = time.perf_counter()
                run()
                seconds[q][shape].append(time.perf_counter() - start)
    return {q: {shape: statistics.median(v) for shape, v in shapes.items()} for q, shapes in seconds.items()}


def _records(corpus: Path, texts: int) -> tuple[list[CVRecord], list[PairRecord]]:
    """The first `texts` CVs and the first `texts` replies of the corpus's validation split."""
    split = load_split(corpus, "validation")
    return ([r for r in split if isinstance(r, CVRecord)][:texts],
            [r for r in split if isinstance(r, PairRecord)][:texts])


def run_benchmark(repeats: int, texts: int, out: Path | None, writer: Writer | None = None,
                  corpus: Path = BUNDLED_CORPUS) -> dict[str, Any]:
    """Every quantisation of the writer (None: the bundled one) on `texts` validation texts a task of `corpus`."""
    writer = writer or Writer.load(None, "cpu")
    template = base_gguf(writer.card)
    if template is None or writer.model.config.model_type != "llama":
        raise InputError(f"{writer.path} is not a Llama-family writer on a GGUF base: it has no GGUF copy to weigh")
    cvs, replies = _records(corpus, texts)
    with tempfile.TemporaryDirectory(prefix="quantisation-") as tmp:
        copies = {q: write_gguf(writer.model, template, Path(tmp) / q / GGUF_FILE, q) for q in (*TIMED, REFERENCE)}
        nll = {q: {"cv": completion_nll(p, writer, cvs), "reply": completion_nll(p, writer, replies)}
               for q, p in copies.items()}
        engines = {q: LlamaCppEngine(Writer(writer.model, writer.tokenizer, writer.device, writer.card, writer.path,
                                            copies[q].parent)) for q in TIMED}
        seconds = timed({q: drafting_runs(writer, e) for q, e in engines.items()}, repeats)
        sizes = {q: gguf_weights(copies[q])[0] for q in copies}
        for engine in engines.values():
            engine.close()
    result = {
        "benchmark": "quantisation", "model": str(writer.path), "repeats": repeats, "texts_per_task": texts,
        "machine": machine("cpu"),
        "weights_mb": {q: round(b / 1e6, 1) for q, b in sizes.items()},
        "nll": {q: {task: round(v, 4) for task, v in tasks.items()} for q, tasks in nll.items()},
        "nll_over_f32": {q: {task: round(v / nll[REFERENCE][task], 3) for task, v in tasks.items()}
                         for q, tasks in nll.items()},
        "seconds_median": {q: {shape: round(s, 3) for shape, s in shapes.items()} for q, shapes in seconds.items()},
        "speed_over_q8_0": {q: {shape: round(seconds["Q8_0"][shape] / s, 2) for shape, s in shapes.items()}
                            for q, shapes in seconds.items()},
    }
    print(summary(result))
    return write_result(result, out)


def summary(result: dict[str, Any]) -> str:
    rows = []
    for q, quality in result["nll_over_f32"].items():
        speed = result["speed_over_q8_0"].get(q)
        gains = ", ".join(f"{shape} {x}x" for shape, x in speed.items()) if speed else "(reference)"
        rows.append(f"  {q:<9} {result['weights_mb'][q]:6.1f} MB  NLL x{quality['cv']} CV, x{quality['reply']} "
                    f"reply over float32;  speed over Q8_0: {gains}")
    return "\n".join(["GGUF quantisations of the bundled writer:", *rows])
