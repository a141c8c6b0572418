"""Benchmark: drafting, the project's way against what a user would pick instead, in one run.

One prompt, 8 drafts of exactly `new_tokens` tokens each, the live sampling settings (temperature,
top-k, repetition control), timed interleaved so that every path sees the same machine:
- project: the writer's engine as the worker uses it (`models/writer/engine.py`; CTranslate2 on the
  checkpoint's int8 copy when it has one);
- hf_generate: `model.generate(do_sample=True, num_return_sequences=8)`, one call, PyTorch;
- ct2_plain: CTranslate2 used the plain way, on the same int8 copy: one `generate_batch` call with
  `num_hypotheses=8` (and the prompt forwarded at once, as its documentation advises);
- torch_path: the project's own PyTorch loop (`sampling.py`), the reference.
Then the worker's cross-request batch: 16 requests' prompts (8 drafts each) in one engine call,
against 16 calls, one per request (what the plain way does for 16 jobs).

Run on the bundled writer and on a randomly initialised model of `gpt2` size (124M parameters),
converted the same way. Ratios are the figures to read; tokens/s are context.

    implementor bench text         (or: python -m bench.text_generation)
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from bench.common import machine, write_result
from bench.gpt2_sized import gpt2_sized_writer
from models.writer.engine import CTranslate2Engine, TorchEngine, load_engine
from models.writer.model import SamplingSettings, Writer

CANDIDATES, REQUESTS = 8, 16
PROMPT = ("Hi all, we need someone to plan a marketing strategy for the launch at Fairweather Ltd. "
          "Concretely, we have to determine the objective of the strategy and the channels to use. "
          "We have 4 weeks. Who could take this on?")
TOPICS = ("inspect the ventilation systems", "migrate the payroll records", "calibrate the laboratory equipment",
          "plan the spring campaign", "audit the supplier contracts", "train the new warehouse staff",
          "redesign the booking website", "negotiate the office lease")


def timed(paths: dict[str, Callable[[], int]], repeats: int) -> dict[str, tuple[float, int]]:
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


def drafting_paths(writer: Writer, settings: SamplingSettings, new_tokens: int) -> dict[str, Callable[[], int]]:
    ids = writer.tokenizer(writer.format.reply(PROMPT))["input_ids"]
    prompt = torch.tensor([ids], device=writer.device)
    engine, fast, reference = load_engine(writer, "auto"), CTranslate2Engine(writer), TorchEngine(writer)
    hf = {"do_sample": True, "temperature": settings.temperature, "top_k": settings.top_k,
          "repetition_penalty": settings.repetition_penalty, "no_repeat_ngram_size": settings.no_repeat_ngram_size,
          "max_new_tokens": new_tokens, "min_new_tokens": new_tokens, "pad_token_id": writer.eos_id,
          "num_return_sequences": CANDIDATES}
    tokens = writer.tokenizer.convert_ids_to_tokens(ids)

    def project() -> int:
        return sum(map(len, engine.sample([ids], CANDIDATES, settings, None, min_new_tokens=new_tokens)[0][0]))

    def hf_generate() -> int:
        out = writer.model.generate(prompt, attention_mask=torch.ones_like(prompt), **hf)
        return int(out.shape[0] * (out.shape[1] - prompt.shape[1]))

    def ct2_plain() -> int:
        [result] = fast.generator.generate_batch(
            [tokens], max_length=new_tokens, min_length=new_tokens, num_hypotheses=CANDIDATES,
            sampling_topk=settings.top_k, sampling_temperature=settings.temperature,
            repetition_penalty=settings.repetition_penalty, no_repeat_ngram_size=settings.no_repeat_ngram_size,
            include_prompt_in_result=False)
        return sum(map(len, result.sequences_ids))

    def torch_path() -> int:
        return sum(map(len, reference.sample([ids], CANDIDATES, settings, None, min_new_tokens=new_tokens)[0][0]))

    return {"project": project, "hf_generate": hf_generate, "ct2_plain": ct2_plain, "torch_path": torch_path}


def cross_request_paths(writer: Writer, settings: SamplingSettings, new_tokens: int) -> dict[str, Callable[[], int]]:
    prompts = [writer.tokenizer(writer.format.reply(f"Could someone {t} before the {p} at Acme? We have {w} weeks."))
               ["input_ids"] for t, p, w in zip(TOPICS * 2, ("audit", "launch") * 8, range(2, 18), strict=True)]
    engine = load_engine(writer, "auto")

    def batched() -> int:
        out = engine.sample(prompts, CANDIDATES, settings, None, min_new_tokens=new_tokens)
        return sum(len(row) for rows, _ in out for row in rows)

    def one_at_a_time() -> int:
        return sum(len(row) for p in prompts
                   for row in engine.sample([p], CANDIDATES, settings, None, min_new_tokens=new_tokens)[0][0])

    return {"batched_16": batched, "one_at_a_time_16": one_at_a_time}


def measure(writer: Writer, new_tokens: int, repeats: int) -> dict[str, Any]:
    settings = replace(writer.sampling.reply, max_new_tokens=new_tokens)
    drafting = timed(drafting_paths(writer, settings, new_tokens), repeats)
    cross = timed(cross_request_paths(writer, settings, new_tokens), max(1, repeats // 2))
    tps = {name: tokens / seconds for name, (seconds, tokens) in {**drafting, **cross}.items()}
    return {
        "parameters_m": round(sum(p.numel() for p in writer.model.parameters()) / 1e6, 1),
        "engine": load_engine(writer, "auto").name,
        "seconds_median": {name: round(s, 3) for name, (s, _) in {**drafting, **cross}.items()},
        "tokens_per_s": {k: round(v, 1) for k, v in tps.items()},
        "project_over_hf_generate": round(tps["project"] / tps["hf_generate"], 2),
        "project_over_ct2_plain": round(tps["project"] / tps["ct2_plain"], 2),
        "project_over_torch_path": round(tps["project"] / tps["torch_path"], 2),
        "cross_request_batched_over_one_at_a_time": round(tps["batched_16"] / tps["one_at_a_time_16"], 2),
    }


def run_benchmark(model: Path | str | None, device: str, repeats: int, new_tokens: int,
                  out: Path | None, gpt2_size: bool = True) -> dict[str, Any]:
    """Time the paths on the writer and (unless `gpt2_size` is off) a random GPT-2 of `gpt2` size."""
    writer = Writer.load(model, device)
    result: dict[str, Any] = {
        "benchmark": "text_generation", "candidates": CANDIDATES, "requests": REQUESTS, "new_tokens": new_tokens,
        "repeats": repeats, "sampling": writer.sampling.reply.to_dict() | {"max_new_tokens": new_tokens},
        "machine": machine(str(writer.device)), "models": {},
    }
    with tempfile.TemporaryDirectory() as scratch:
        models = {"bundled" if model is None else "writer": writer}
        if gpt2_size:
            models["gpt2_size_random"] = gpt2_sized_writer(writer, Path(scratch))
        for name, candidate in models.items():
            r = result["models"][name] = measure(candidate, new_tokens, repeats)
            print(f"{name} ({r['parameters_m']}M, {r['engine']}): {r['project_over_hf_generate']}x HF generate, "
                  f"{r['project_over_ct2_plain']}x CTranslate2 plain, {r['project_over_torch_path']}x the torch path; "
                  f"16 requests batched {r['cross_request_batched_over_one_at_a_time']}x one at a time")
    return write_result(result, out)


if __name__ == "__main__":
    run_benchmark(None, "auto", 3, 64, Path(__file__).parent / "results" / "text_generation.json")
