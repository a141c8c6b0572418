"""Benchmark: 8 reply candidates from one prefill, against 8 `generate` calls and 8 pipeline calls.

Three ways to draft the same 8 candidates of one prompt, with the live sampling settings, timed in
one run and interleaved so that all three see the same machine:
- batched: `models.writer.sampling.sample_batched`, the prompt's forward pass once, its key/value cache
  repeated 8 times, then one batched step per new token;
- generate: `model.generate` called 8 times (8 prefills, 8 batches of one);
- pipeline: `transformers.pipeline("text-generation")` called once per candidate.

Run on the bundled writer and on a randomly initialised model of `gpt2` size (124M parameters:
12 layers, 768 wide, 50,257-token vocabulary), whose prompt ids come from our tokenizer. Every path
is forced to write exactly `new_tokens` tokens, so throughput is comparable; the ratios are the
figures to read, tokens/s are context.

    implementor bench text         (or: python -m bench.text_generation)
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from bench.common import machine, write_result
from models.writer.model import Writer
from models.writer.prompts import reply_prompt
from models.writer.sampling import sample_batched

CANDIDATES = 8
PROMPT = ("Hi all, we need someone to plan a marketing strategy for the launch at Fairweather Ltd. "
          "Concretely, we have to determine the objective of the strategy and the channels to use. "
          "We have 4 weeks. Who could take this on?")


def _gpt2_sized(writer: Writer) -> Writer:
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    eos = writer.eos_id
    model = GPT2LMHeadModel(GPT2Config(bos_token_id=eos, eos_token_id=eos, pad_token_id=eos))
    return Writer(model, writer.tokenizer, writer.device, writer.card)


def _paths(writer: Writer, new_tokens: int) -> dict[str, Callable[[], int]]:
    """Each path drafts CANDIDATES continuations and returns how many tokens it generated."""
    from transformers import pipeline

    settings = replace(writer.sampling.reply, max_new_tokens=new_tokens)
    text = reply_prompt(PROMPT)
    ids = writer.tokenizer(text)["input_ids"]
    prompt = torch.tensor([ids], device=writer.device)
    gen = torch.Generator(device=writer.device).manual_seed(0)
    sample_kwargs = {"do_sample": True, "temperature": settings.temperature, "top_k": settings.top_k,
                     "max_new_tokens": new_tokens, "min_new_tokens": new_tokens, "pad_token_id": writer.eos_id}
    pipe = pipeline("text-generation", model=writer.model, tokenizer=writer.tokenizer, device=writer.device)

    def batched() -> int:
        rows, _ = sample_batched(writer, ids, CANDIDATES, settings, gen, min_new_tokens=new_tokens)
        return sum(map(len, rows))

    def generate() -> int:
        total = 0
        for _ in range(CANDIDATES):
            out = writer.model.generate(prompt, attention_mask=torch.ones_like(prompt), **sample_kwargs)
            total += out.shape[1] - prompt.shape[1]
        return total

    def per_candidate_pipeline() -> int:
        for _ in range(CANDIDATES):
            pipe(text, return_full_text=False, **sample_kwargs)
        return CANDIDATES * new_tokens

    return {"batched": batched, "generate": generate, "pipeline": per_candidate_pipeline}


def _measure(writer: Writer, new_tokens: int, repeats: int) -> dict[str, Any]:
    paths = _paths(writer, new_tokens)
    times: dict[str, list[float]] = {name: [] for name in paths}
    tokens: dict[str, int] = {}
    with torch.inference_mode():
        for fn in paths.values():  # warm-up
            fn()
        for _ in range(repeats):
            for name, fn in paths.items():
                start = time.perf_counter()
                tokens[name] = fn()
                times[name].append(time.perf_counter() - start)
    tps = {name: tokens[name] / statistics.median(t) for name, t in times.items()}
    return {
        "parameters_m": round(sum(p.numel() for p in writer.model.parameters()) / 1e6, 1),
        "tokens_per_s": {k: round(v, 1) for k, v in tps.items()},
        "ms_per_candidate": {k: round(statistics.median(t) / CANDIDATES * 1000, 1) for k, t in times.items()},
        "speedup_batched_over_generate": round(tps["batched"] / tps["generate"], 2),
        "speedup_batched_over_pipeline": round(tps["batched"] / tps["pipeline"], 2),
    }


def run_benchmark(model: Path | str | None, device: str, repeats: int, new_tokens: int,
                  out: Path | None, gpt2_size: bool = True) -> dict[str, Any]:
    """Time the three paths on the writer and (unless `gpt2_size` is off) a random GPT-2 of `gpt2` size."""
    writer = Writer.load(model, device)
    result: dict[str, Any] = {
        "benchmark": "text_generation",
        "candidates": CANDIDATES,
        "new_tokens": new_tokens,
        "repeats": repeats,
        "sampling": writer.sampling.reply.to_dict() | {"max_new_tokens": new_tokens},
        "machine": machine(str(writer.device)),
        "models": {},
    }
    models = {"bundled" if model is None else "writer": writer}
    if gpt2_size:
        models["gpt2_size_random"] = _gpt2_sized(writer)
    for name, candidate in models.items():
        result["models"][name] = _measure(candidate, new_tokens, repeats)
        r = result["models"][name]
        print(f"{name} ({r['parameters_m']}M params): batched drafting is {r['speedup_batched_over_generate']}x "
              f"8 generate calls and {r['speedup_batched_over_pipeline']}x 8 pipeline calls "
              f"({r['tokens_per_s']['batched']:.0f} vs {r['tokens_per_s']['generate']:.0f} tokens/s)")
    return write_result(result, out)


if __name__ == "__main__":
    run_benchmark(None, "auto", 3, 64, Path(__file__).parent / "results" / "text_generation.json")
