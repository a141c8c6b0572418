"""Benchmark: drafting, the project's way against what a user would pick instead, in one run.

One reply prompt (the writer's own prompt format), 8 drafts of exactly `new_tokens` tokens each,
the live reply settings (temperature, top-k, top-p, repetition control), timed interleaved (each
repeat runs every path once, in turn, so that every path sees the same machine; medians):
- project: the writer's engine as the worker uses it (`engine.load_engine(writer, "auto")`:
  llama.cpp on the GGUF copy on a CPU);
- hf_generate_float32: `model.generate(do_sample=True, num_return_sequences=8)`, one call;
- hf_generate_bf16: the same under bf16 autocast, only on a CPU with AMX bf16 (elsewhere bf16 is
  emulated, slower than float32, and nobody would pick it);
- llama_plain: llama-cpp-python's high-level `Llama` on the same GGUF file, 8 drafts one after
  another (the prompt read for the first, kept by the library's prefix cache for the rest;
  `bench/llama_plain.py` says how each writes exactly `new_tokens`);
- ct2_plain: CTranslate2 used the plain way on the int8 copy: one `generate_batch` call with
  `num_hypotheses=8`;
- torch_path: the project's own PyTorch loop (`sampling.py`), the reference.
Every path holds the end token back until `new_tokens`, so all write the same length. Then the
worker's cross-request batch: 16 requests' distinct prompts (8 drafts each) in one engine call,
against 16 calls, one per request (what the plain way does for 16 jobs), on the same engine.
Ratios are the figures to read; seconds and tokens/s are context.

    python -m bench text
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from bench.common import machine, write_result
from bench.llama_plain import plain_llama, write_exactly
from implementor.models.writer.ct2_engine import CTranslate2Engine, has_converted_copy
from implementor.models.writer.engine import Engine
from implementor.models.writer.engine_choice import load_engine
from implementor.models.writer.llama_engine import has_gguf_copy, llama_cpp_available
from implementor.models.writer.llama_file import GGUF_FILE
from implementor.models.writer.model import SamplingSettings, Writer
from implementor.models.writer.torch_engine import TorchEngine

CANDIDATES, REQUESTS = 8, 16
PROMPT = ("Hi all, we need someone to plan a marketing strategy for the launch at Fairweather Ltd. "
          "Concretely, we have to determine the objective of the strategy and the channels to use. "
          "We have 4 weeks. Who could take this on?")
TOPICS = ("inspect the ventilation systems", "migrate the payroll records", "calibrate the laboratory equipment",
          "plan the spring campaign", "audit the supplier contracts", "train the new warehouse staff",
          "redesign the booking website", "negotiate the office lease")
Run = Callable[[], int]  # one timed run; returns the tokens it wrote


def timed(paths: dict[str, Run], repeats: int) -> dict[str, tuple[float, int]]:
    """Median seconds and the tokens written, per path, interleaved after one warm-up round."""
    times: dict[str, list[float]] = {name: [] for name in paths}
    tokens: dict[str, int] = {}
    with torch.inference_mode():
        for fn in paths.values():
            fn()
        for _ in range(repeats):
            for name, fn in paths.items():
                start = time.perf_counter()
                tokens[name] = fn()
                times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(t), tokens[name]) for name, t in times.items()}


def has_amx_bf16() -> bool:
    """Whether this CPU has AMX with bf16, where bf16 autocast runs natively instead of emulated."""
    try:
        return "amx_bf16" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def hf_paths(writer: Writer, ids: list[int], settings: SamplingSettings, new_tokens: int) -> dict[str, Run]:
    prompt = torch.tensor([ids], device=writer.device)
    options = {"do_sample": True, "temperature": settings.temperature, "top_k": settings.top_k,
               "top_p": settings.top_p, "repetition_penalty": settings.repetition_penalty,
               "no_repeat_ngram_size": settings.no_repeat_ngram_size, "max_new_tokens": new_tokens,
               "min_new_tokens": new_tokens, "eos_token_id": writer.eos_id, "pad_token_id": writer.eos_id,
               "num_return_sequences": CANDIDATES}

    def generate(bf16: bool) -> Run:
        def run() -> int:
            with torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else nullcontext():
                out = writer.model.generate(prompt, attention_mask=torch.ones_like(prompt), **options)
            return int(out.shape[0] * (out.shape[1] - prompt.shape[1]))

        return run

    paths = {"hf_generate_float32": generate(False)}
    if writer.device.type == "cpu" and has_amx_bf16():
        paths["hf_generate_bf16"] = generate(True)
    return paths


def llama_plain_path(writer: Writer, ids: list[int], settings: SamplingSettings, new_tokens: int) -> Run:
    assert writer.served_from is not None
    llm = plain_llama(writer.served_from / GGUF_FILE, n_ctx=max(512, len(ids) + new_tokens + 8))

    def run() -> int:
        return sum(len(write_exactly(llm, ids, new_tokens, settings, fresh=draft == 0)) for draft in range(CANDIDATES))

    return run


def ct2_plain_path(writer: Writer, ids: list[int], settings: SamplingSettings, new_tokens: int) -> Run:
    generator = CTranslate2Engine(writer).generator
    tokens = writer.tokenizer.convert_ids_to_tokens(ids)

    def run() -> int:
        [result] = generator.generate_batch(
            [tokens], max_length=new_tokens, min_length=new_tokens, num_hypotheses=CANDIDATES,
            sampling_topk=settings.top_k, sampling_topp=settings.top_p, sampling_temperature=settings.temperature,
            repetition_penalty=settings.repetition_penalty, no_repeat_ngram_size=settings.no_repeat_ngram_size,
            end_token=writer.format.end, include_prompt_in_result=False)
        return sum(map(len, result.sequences_ids))

    return run


def engine_path(engine: Engine, prompts: list[list[int]], settings: SamplingSettings, new_tokens: int) -> Run:
    def run() -> int:
        out = engine.sample(prompts, CANDIDATES, settings, None, min_new_tokens=new_tokens)
        return sum(len(row) for rows, _ in out for row in rows)

    return run


def drafting_paths(writer: Writer, engine: Engine, settings: SamplingSettings, new_tokens: int) -> dict[str, Run]:
    """Every path that can run this writer here (llama.cpp needs its GGUF copy and a CPU, CTranslate2 its copy)."""
    ids = writer.tokenizer(writer.format.reply(PROMPT))["input_ids"]
    paths = {"project": engine_path(engine, [ids], settings, new_tokens),
             **hf_paths(writer, ids, settings, new_tokens)}
    if writer.device.type == "cpu" and llama_cpp_available() and has_gguf_copy(writer):
        paths["llama_plain"] = llama_plain_path(writer, ids, settings, new_tokens)
    if has_converted_copy(writer):
        paths["ct2_plain"] = ct2_plain_path(writer, ids, settings, new_tokens)
    paths["torch_path"] = engine_path(TorchEngine(writer), [ids], settings, new_tokens)
    return paths


def cross_request_paths(writer: Writer, engine: Engine, settings: SamplingSettings,
                        new_tokens: int) -> dict[str, Run]:
    prompts = [writer.tokenizer(writer.format.reply(f"Could someone {t} before the {p} at Acme? We have {w} weeks."))
               ["input_ids"] for t, p, w in zip(TOPICS * 2, ("audit", "launch") * 8, range(2, 18), strict=True)]
    one_each = [engine_path(engine, [p], settings, new_tokens) for p in prompts]
    return {"batched_16": engine_path(engine, prompts, settings, new_tokens),
            "one_at_a_time_16": lambda: sum(run() for run in one_each)}


def ratios(tps: dict[str, float]) -> dict[str, float]:
    """The project's tokens/s over each other drafting path's, and the cross-request batch's gain."""
    out = {f"project_over_{name}": round(tps["project"] / tps[name], 2)
           for name in tps if name not in ("project", "batched_16", "one_at_a_time_16")}
    out["cross_request_batched_over_one_at_a_time"] = round(tps["batched_16"] / tps["one_at_a_time_16"], 2)
    return out


def run_benchmark(model: Path | str | None, device: str, repeats: int, new_tokens: int,
                  out: Path | None) -> dict[str, Any]:
    """Time every drafting path on the writer (None: the bundled one), then the cross-request batch."""
    writer = Writer.load(model, device)
    settings = replace(writer.sampling.reply, max_new_tokens=new_tokens)
    engine = load_engine(writer, "auto")
    drafting = timed(drafting_paths(writer, engine, settings, new_tokens), repeats)
    cross = timed(cross_request_paths(writer, engine, settings, new_tokens), repeats)
    both = {**drafting, **cross}
    tps = {name: tokens / seconds for name, (seconds, tokens) in both.items()}
    result = {
        "benchmark": "text_generation", "model": "bundled" if model is None else str(model),
        "parameters_m": round(sum(p.numel() for p in writer.model.parameters()) / 1e6, 1), "engine": engine.name,
        "candidates": CANDIDATES, "requests": REQUESTS, "new_tokens": new_tokens, "repeats": repeats,
        "sampling": settings.to_dict(), "machine": machine(str(writer.device)),
        "seconds_median": {name: round(s, 3) for name, (s, _) in both.items()},
        "tokens": {name: n for name, (_, n) in both.items()},
        "tokens_per_s": {name: round(v, 1) for name, v in tps.items()},
        **ratios(tps),
    }
    print(summary(result))
    return write_result(result, out)


def summary(result: dict[str, Any]) -> str:
    rows = [f"  {name:<20} {s:7.3f} s  {result['tokens_per_s'][name]:8.1f} tokens/s"
            for name, s in result["seconds_median"].items()]
    gains = ", ".join(f"{key.removeprefix('project_over_')} {value}x" for key, value in result.items()
                      if key.startswith("project_over_"))
    return "\n".join([f"{result['candidates']} drafts x {result['new_tokens']} tokens, {result['model']} writer "
                      f"({result['parameters_m']}M, engine {result['engine']}):", *rows,
                      f"  project over: {gains}",
                      f"  16 requests in one call over one call each: "
                      f"{result['cross_request_batched_over_one_at_a_time']}x"])
