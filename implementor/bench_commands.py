"""Benchmarks of the writer: drafting against the alternatives a user would pick, decode steps, whole jobs.

Each prints its ratios and writes its JSON to `bench/results/` (the code is in `bench/`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from config import get_settings
from contracts.errors import InputError
from implementor.console import done
from implementor.text_commands import DeviceOpt, WriterOpt


def bench_decode(
    repeats: Annotated[int, typer.Option(help="Timed repetitions (each runs every path once).")] = 5,
    steps: Annotated[int, typer.Option(help="n: a step is (time of 2n tokens - time of n) / n.")] = 32,
    out: Annotated[Path, typer.Option(help="JSON to write.")] = Path("bench/results/decode_latency.json"),
) -> None:
    """The bundled writer's batch-1 decode step on the CPU: the project's engine, llama.cpp used plainly,
    CTranslate2 and the PyTorch loop, each against the memory-bandwidth floor of its weights."""
    from bench.decode_latency import run_benchmark

    if repeats < 1 or steps < 1:
        raise InputError("--repeats and --steps must be positive")
    result = run_benchmark(repeats, out, steps)
    typer.echo(json.dumps(result, indent=2))
    done("benchmark written", out)


def bench_quantisation(
    repeats: Annotated[int, typer.Option(help="Timed repetitions (each runs every copy once).")] = 3,
    texts: Annotated[int, typer.Option(help="Validation CVs, and replies, whose likelihood is measured.")] = 30,
    out: Annotated[Path, typer.Option(help="JSON to write.")] = Path("bench/results/quantisation.json"),
) -> None:
    """The writer's GGUF copy in each quantisation: its likelihood of real texts against float32's, and
    the engine's drafting speed against Q8_0's (the shipped one)."""
    from bench.quantisation import run_benchmark

    if repeats < 1 or texts < 1:
        raise InputError("--repeats and --texts must be positive")
    result = run_benchmark(repeats, texts, out)
    typer.echo(json.dumps(result, indent=2))
    done("benchmark written", out)


def bench_e2e(
    jobs: Annotated[int, typer.Option(help="Jobs of each kind per path.")] = 6,
    out: Annotated[Path, typer.Option(help="JSON to write.")] = Path("bench/results/end_to_end.json"),
) -> None:
    """`introduce` and `project` through the embedded worker, the PyTorch loop against the engine: p50, p95."""
    from bench.end_to_end import run_benchmark

    if jobs < 2:
        raise InputError("--jobs must be at least 2")
    result = run_benchmark(jobs, out)
    typer.echo(json.dumps(result, indent=2))
    done("benchmark written", out)


def bench(
    model: WriterOpt = None,
    device: DeviceOpt = None,
    repeats: Annotated[int, typer.Option(help="Timed repetitions per path.")] = 3,
    new_tokens: Annotated[int, typer.Option(help="Tokens each candidate writes.")] = 64,
    out: Annotated[Path, typer.Option(help="JSON to write.")] = Path("bench/results/text_generation.json"),
) -> None:
    """Drafting the project's way against HF generate, llama.cpp and CTranslate2 used plainly and the PyTorch
    loop, as ratios; then 16 requests in one engine call against one call each."""
    from bench.text_generation import run_benchmark

    if repeats < 1 or new_tokens < 1:
        raise InputError("--repeats and --new-tokens must be positive")
    settings = get_settings()
    result = run_benchmark(model or settings.writer_model, device or settings.device, repeats, new_tokens, out)
    typer.echo(json.dumps(result, indent=2))
    done("benchmark written", out)
