"""Benchmark: the bundled writer's batch-1 decode step on every CPU path, against the memory-bandwidth floor.

Writing one token at batch 1 reads every weight once, so a step can never take less than the
weights' bytes divided by how fast the machine streams memory. This measures that bandwidth
(numpy copying 256 MiB arrays: bytes read plus bytes written, per second) and the time per step of:
- project: the project's engine (`load_engine(writer, "auto")`: `LlamaCppEngine` on the writer's
  GGUF copy, `writer.gguf`, Q8_0);
- llama_plain: llama-cpp-python's high-level `Llama` on the same file, used plainly;
- llama_plain_base: the same on the base's own GGUF (the package's Q4_1 file: what a user picks
  who takes SmolLM2 off the shelf; the adapter is not in it, the shape and the work are the same);
- project_base: the project's engine on that same file (the engine's own work around
  `llama_decode` against plain llama.cpp's, with the file held equal);
- ct2_int8: CTranslate2 on the writer's int8 copy (`CTranslate2Engine`);
- torch_float32: the project's PyTorch loop (`TorchEngine`), the reference.
Each path is reported in ms a step and as a multiple of the floor of its own weights (the GGUF
file's tensor bytes, CTranslate2's model.bin, 4 bytes a parameter), and the project over plain
llama.cpp on either file. A writer without a GGUF copy or a GGUF base (a GPT-2 writer) gets the
paths it has. A step is timed as the difference between writing 2n and n tokens
after the same 128-token prompt, divided by n, so the prompt's forward pass cancels out; every
path writes exactly that many tokens (the engines hold the end token back, plain llama.cpp takes
k tokens from `Llama.generate`: `bench/llama_plain.py`). Repeats are interleaved: each runs every
path once, in turn, so that every path sees the same machine; the figures are medians.

A CPU benchmark: llama.cpp runs on the CPU here, and the floor is the CPU's memory.

    python -m bench decode
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.common import machine, write_result
from bench.llama_plain import gguf_weights, plain_llama, write_exactly
from implementor.models.writer.base import BaseRef, verify
from implementor.models.writer.ct2_engine import CTranslate2Engine, has_converted_copy
from implementor.models.writer.ct2_file import CT2_DIR, ct2_available
from implementor.models.writer.engine import Engine
from implementor.models.writer.engine_choice import load_engine
from implementor.models.writer.llama_engine import LlamaCppEngine, has_gguf_copy, llama_cpp_available
from implementor.models.writer.llama_file import GGUF_FILE
from implementor.models.writer.model import SamplingSettings, Writer
from implementor.models.writer.torch_engine import TorchEngine

CONTEXT = 128
SETTINGS = SamplingSettings(top_k=40)  # the reddit bot's sampling; repetition control off
Run = Callable[[int], None]  # writes exactly this many tokens after the prompt


def stream_bandwidth(mib: int = 256, repeats: int = 5) -> float:
    """Bytes per second this machine moves through memory (read + write), median of `repeats` copies."""
    source = np.ones(mib * 2**20, dtype=np.uint8)
    target = np.empty_like(source)
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        np.copyto(target, source)
        times.append(time.perf_counter() - start)
    return 2 * source.nbytes / statistics.median(times[1:])


def engine_run(engine: Engine, prompt: list[int]) -> Run:
    def run(tokens: int) -> None:
        settings = SamplingSettings(top_k=SETTINGS.top_k, max_new_tokens=tokens)
        engine.sample([prompt], 1, settings, None, min_new_tokens=tokens)

    return run


def llama_run(path: Path, prompt: list[int], steps: int) -> Run:
    llm = plain_llama(path, n_ctx=max(512, CONTEXT + 2 * steps + 8))

    def run(tokens: int) -> None:
        write_exactly(llm, prompt, tokens, SETTINGS, fresh=True)

    return run


def step_seconds(runs: dict[str, Run], n: int, repeats: int) -> dict[str, float]:
    """Seconds a step per path: (median of 2n-token runs - median of n-token runs) / n, interleaved."""
    long: dict[str, list[float]] = {name: [] for name in runs}
    short: dict[str, list[float]] = {name: [] for name in runs}

    def timed(run: Run, tokens: int) -> float:
        start = time.perf_counter()
        run(tokens)
        return time.perf_counter() - start

    with torch.inference_mode():
        for run in runs.values():
            run(2 * n)  # warm-up, at the longer length (an engine sizes its cache on first use)
        for _ in range(repeats):
            for name, run in runs.items():
                long[name].append(timed(run, 2 * n))
                short[name].append(timed(run, n))
    return {name: (statistics.median(long[name]) - statistics.median(short[name])) / n for name in runs}


def gguf_base(writer: Writer) -> Path | None:
    """The base's own GGUF file, for a writer fine-tuned from one (its sha256 checked), else None."""
    if "base" not in writer.card:
        return None
    path = verify(BaseRef.from_dict(writer.card["base"]))
    return path if path.suffix == ".gguf" else None


def _engine_on(writer: Writer, gguf: Path) -> LlamaCppEngine:
    """The project's engine on another GGUF file of the same tokenizer, served from a directory holding a
    link to it (gone once the engine has loaded the file)."""
    with tempfile.TemporaryDirectory(prefix="decode-base-") as folder:
        served = Path(folder)
        (served / GGUF_FILE).symlink_to(gguf.resolve())
        return LlamaCppEngine(Writer(writer.model, writer.tokenizer, writer.device, writer.card, writer.path, served))


def decode_paths(writer: Writer, engine: Engine, prompt: list[int],
                 steps: int) -> tuple[dict[str, Run], dict[str, tuple[int, str]]]:
    """Every path that can run this writer here, and the bytes (and type) of the weights each reads at a step."""
    assert writer.served_from is not None
    gguf, ct2 = writer.served_from / GGUF_FILE, writer.served_from / CT2_DIR / "model.bin"
    paths: dict[str, tuple[Run, Callable[[], tuple[int, str]]]] = {}

    def float32() -> tuple[int, str]:
        return 4 * sum(p.numel() for p in writer.model.parameters()), "float32"

    def int8() -> tuple[int, str]:
        return ct2.stat().st_size, "int8"

    own = {"llama.cpp": lambda: gguf_weights(gguf), "ctranslate2": int8}.get(engine.name, float32)
    paths["project"] = engine_run(engine, prompt), own
    if llama_cpp_available() and has_gguf_copy(writer):
        paths["llama_plain"] = llama_run(gguf, prompt, steps), lambda: gguf_weights(gguf)
    base = gguf_base(writer) if llama_cpp_available() else None
    if base is not None:
        paths["project_base"] = engine_run(_engine_on(writer, base), prompt), lambda: gguf_weights(base)
        paths["llama_plain_base"] = llama_run(base, prompt, steps), lambda: gguf_weights(base)
    if ct2_available() and has_converted_copy(writer):
        paths["ct2_int8"] = engine_run(CTranslate2Engine(writer), prompt), int8
    paths["torch_float32"] = engine_run(TorchEngine(writer), prompt), float32
    return {name: run for name, (run, _) in paths.items()}, {name: size() for name, (_, size) in paths.items()}


def run_benchmark(repeats: int, out: Path | None, steps: int = 32, writer_path: Path | None = None) -> dict[str, Any]:
    """Time a decode step of the writer (None: the bundled one) on each path that can run it, n =
    `steps`, in `repeats` interleaved rounds."""
    writer = Writer.load(writer_path, "cpu")
    engine = load_engine(writer, "auto")
    bandwidth = stream_bandwidth()
    prompt = writer.tokenizer("Could someone help us plan the launch? " * 20)["input_ids"][:CONTEXT]
    runs, weights = decode_paths(writer, engine, prompt, steps)
    seconds = step_seconds(runs, steps, repeats)
    floors = {name: size / bandwidth for name, (size, _) in weights.items()}
    result = {
        "benchmark": "decode_latency", "model": "bundled" if writer_path is None else str(writer_path),
        "engine": engine.name, "parameters_m": round(sum(p.numel() for p in writer.model.parameters()) / 1e6, 1),
        "base_gguf": base.name if (base := gguf_base(writer)) else None,
        "context_tokens": len(prompt), "steps": steps, "repeats": repeats, "machine": machine("cpu"),
        "stream_bandwidth_gb_s": round(bandwidth / 1e9, 1),
        "weights": {name: {"mb": round(size / 1e6, 1), "type": kind} for name, (size, kind) in weights.items()},
        "ms_per_step": {name: round(s * 1000, 2) for name, s in seconds.items()},
        "floor_ms": {name: round(f * 1000, 2) for name, f in floors.items()},
        "times_floor": {name: round(seconds[name] / floors[name], 2) for name in seconds},
        **{f"project_over_{name}": round(seconds[name] / seconds["project"], 2)
           for name in seconds if name.startswith("llama_plain")},
        **({"project_base_over_llama_plain_base": round(seconds["llama_plain_base"] / seconds["project_base"], 2)}
           if "project_base" in seconds else {}),
    }
    print(summary(result))
    return write_result(result, out)


def summary(result: dict[str, Any]) -> str:
    rows = [f"  {name:<17} {result['weights'][name]['type']:<8} {ms:7.2f} ms/step  "
            f"{result['times_floor'][name]:5.2f}x its floor ({result['floor_ms'][name]} ms)"
            for name, ms in result["ms_per_step"].items()]
    gains = [f"  project ({result['engine']}) over {key.removeprefix('project_over_')}: {value}x"
             for key, value in result.items() if key.startswith("project_over_")]
    if "project_base_over_llama_plain_base" in result:
        gains.append("  project on the base's file over llama_plain_base: "
                     f"{result['project_base_over_llama_plain_base']}x")
    return "\n".join([f"batch-1 decode, {result['model']} writer, {result['context_tokens']}-token context, "
                      f"{result['stream_bandwidth_gb_s']} GB/s:", *rows, *gains])
