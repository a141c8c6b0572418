"""Benchmark: one draft's decode step on a `gpt2`-size model, against the machine's memory-bandwidth floor.

Writing one token at batch 1 reads every weight once, so a step can never take less than the
weights' size divided by how fast the machine streams memory. This measures that bandwidth
(numpy copying 256 MiB arrays: bytes read plus bytes written, per second), the time per step of the
PyTorch path and of the engine (CTranslate2 on the int8 copy), and reports each as a share of the
floor for its own weight type. A step is timed as the difference between writing 2n and n tokens
after the same ~128-token prompt, divided by n, so the prompt's forward pass cancels out.

    implementor bench decode      (or: python -m bench.decode_latency)
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.common import machine, write_result
from bench.gpt2_sized import gpt2_sized_writer
from models.writer.engine import CTranslate2Engine, Engine, TorchEngine
from models.writer.model import SamplingSettings, Writer

CONTEXT = 128


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


def step_seconds(engine: Engine, prompt: list[int], n: int, repeats: int) -> float:
    def run(tokens: int) -> float:
        settings = SamplingSettings(top_k=40, max_new_tokens=tokens)
        start = time.perf_counter()
        engine.sample([prompt], 1, settings, None, min_new_tokens=tokens)
        return time.perf_counter() - start

    run(n)  # warm-up
    long, short = [], []
    for _ in range(repeats):
        long.append(run(2 * n))
        short.append(run(n))
    return (statistics.median(long) - statistics.median(short)) / n


def run_benchmark(device: str, repeats: int, out: Path | None, steps: int = 32,
                  writer_path: Path | None = None, gpt2_size: bool = True) -> dict[str, Any]:
    """Time a decode step on a `gpt2`-size model (or, `gpt2_size=False`, on the writer itself, converted)."""
    writer = Writer.load(writer_path, device)
    bandwidth = stream_bandwidth()
    with tempfile.TemporaryDirectory() as scratch:
        big = gpt2_sized_writer(writer, Path(scratch)) if gpt2_size else writer
        parameters = sum(p.numel() for p in big.model.parameters())
        prompt = (writer.tokenizer("Could someone help us plan the launch? " * 20)["input_ids"])[:CONTEXT]
        fast, reference = CTranslate2Engine(big), TorchEngine(big)
        with torch.inference_mode():
            torch_step = step_seconds(reference, prompt, steps, repeats)
            engine_step = step_seconds(fast, prompt, steps, repeats)
    floors = {"float32": parameters * 4 / bandwidth, "int8": parameters / bandwidth}
    result = {
        "benchmark": "decode_latency", "model": "gpt2_size_random" if gpt2_size else str(writer.path),
        "parameters_m": round(parameters / 1e6, 1),
        "context_tokens": CONTEXT, "repeats": repeats, "machine": machine(device),
        "stream_bandwidth_gb_s": round(bandwidth / 1e9, 1),
        "ms_per_step": {"torch_path_float32": round(torch_step * 1000, 1),
                        f"engine_{fast.compute_type}": round(engine_step * 1000, 1)},
        "floor_ms": {k: round(v * 1000, 1) for k, v in floors.items()},
        "share_of_floor": {"torch_path_float32": round(floors["float32"] / torch_step, 2),
                           f"engine_{fast.compute_type}": round(floors["int8"] / engine_step, 2)},
        "engine_over_torch_path": round(torch_step / engine_step, 2),
    }
    print(f"batch-1 decode, gpt2 size: torch {result['ms_per_step']['torch_path_float32']} ms/step "
          f"({result['share_of_floor']['torch_path_float32']:.0%} of its floor), engine "
          f"{engine_step * 1000:.1f} ms/step ({floors['int8'] / engine_step:.0%} of the int8 floor): "
          f"{result['engine_over_torch_path']}x")
    return write_result(result, out)


if __name__ == "__main__":
    run_benchmark("cpu", 5, Path(__file__).parent / "results" / "decode_latency.json")
