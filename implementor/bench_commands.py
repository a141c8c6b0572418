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
    repeats: Annotated[int, typer.Option(help="Timed repetitions.")] = 5,
    out: Annotated[Path, typer.Option(help="JSON to write.")] = Path("bench/results/decode_latency.json"),
) -> None:
    """A batch-1 decode step of a `gpt2`-size model, PyTorch against the engine, as a share of the bandwidth floor."""
    from bench.decode_latency import run_benchmark

    if repeats < 1:
        raise InputError("--repeats must be positive")
    result = run_benchmark(get_settings().device, repeats, out)
    typer.echo(json.dumps(result, indent=2))
    done("benchmark written", out)


def bench_e2e(
    jobs: Annotated[int, typer.Option(help="Jobs of each kind per path.")] = 10,
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
    """Drafting the project's way against HF generate, CTranslate2 used plainly and the PyTorch loop, as ratios."""
    from bench.text_generation import run_benchmark

    if repeats < 1 or new_tokens < 1:
        raise InputError("--repeats and --new-tokens must be positive")
    settings = get_settings()
    result = run_benchmark(model or settings.writer_model, device or settings.device, repeats, new_tokens, out)
    typer.echo(json.dumps(result, indent=2))
    done("benchmark written", out)
