"""`python -m bench NAME`: run one benchmark from a clone of the repository; `make bench` runs them all.

Each prints its ratios, measured side by side in one run against what a user would pick instead, and
writes its JSON to `bench/results/`. The benchmarks are not part of the installed package: they use
the test support's local stack (a redis-server and real worker processes, `tests/support/`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from bench.common import result_path
from implementor.cli.console import done
from implementor.cli.main import run
from implementor.cli.text_commands import DeviceOpt, WriterOpt
from implementor.config import get_settings
from implementor.contracts.errors import ConfigError, InputError


def report(result: dict[str, Any], out: Path) -> None:
    """The benchmark's figures on stdout, and where its JSON went."""
    typer.echo(json.dumps(result, indent=2))
    done("benchmark written", out)


OutOpt = Annotated[Path | None, typer.Option(help="JSON to write. Default: bench/results/<this machine>/"
                                                "<benchmark>.json (a folder per machine, named in plain words).")]

app = typer.Typer(name="bench", help="Run a benchmark; prints ratios and writes JSON to bench/results.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)


def bench_face(
    model: Annotated[str | None, typer.Option(help="Face checkpoint directory (default: the configured one).")] = None,
    device: DeviceOpt = None,
    repeats: Annotated[int, typer.Option(help="Timed repetitions per batch size.")] = 20,
    out: OutOpt = None,
) -> None:
    """Generator throughput at batch 1 against batch 64, as a ratio measured in one run."""
    out = out or result_path("face_generator")
    from bench.face_generator import run_benchmark

    settings = get_settings()
    result = run_benchmark(model or settings.face_model, device or settings.device, repeats, out)
    report(result, out)


def bench_decode(
    repeats: Annotated[int, typer.Option(help="Timed repetitions (each runs every path once).")] = 5,
    steps: Annotated[int, typer.Option(help="n: a step is (time of 2n tokens - time of n) / n.")] = 32,
    out: OutOpt = None,
) -> None:
    """The bundled writer's batch-1 decode step on the CPU: the project's engine, llama.cpp used plainly,
    CTranslate2 and the PyTorch loop, each against the memory-bandwidth floor of its weights."""
    out = out or result_path("decode_latency")
    from bench.decode_latency import run_benchmark

    if repeats < 1 or steps < 1:
        raise InputError("--repeats and --steps must be positive")
    result = run_benchmark(repeats, out, steps)
    report(result, out)


def bench_quantisation(
    repeats: Annotated[int, typer.Option(help="Timed repetitions (each runs every copy once).")] = 3,
    texts: Annotated[int, typer.Option(help="Validation CVs, and replies, whose likelihood is measured.")] = 30,
    out: OutOpt = None,
) -> None:
    """The writer's GGUF copy in each quantisation: its likelihood of real texts against float32's, and
    the engine's drafting speed against Q8_0's (the shipped one)."""
    out = out or result_path("quantisation")
    from bench.quantisation import run_benchmark

    if repeats < 1 or texts < 1:
        raise InputError("--repeats and --texts must be positive")
    result = run_benchmark(repeats, texts, out)
    report(result, out)


def bench_e2e(
    jobs: Annotated[int, typer.Option(help="Jobs of each kind per path.")] = 6,
    out: OutOpt = None,
) -> None:
    """`introduce` and `project` through the embedded worker, the PyTorch loop against the engine: p50, p95."""
    out = out or result_path("end_to_end")
    from bench.end_to_end import run_benchmark

    if jobs < 2:
        raise InputError("--jobs must be at least 2")
    result = run_benchmark(jobs, out)
    report(result, out)


def bench_text(
    model: WriterOpt = None,
    device: DeviceOpt = None,
    repeats: Annotated[int, typer.Option(help="Timed repetitions per path.")] = 3,
    new_tokens: Annotated[int, typer.Option(help="Tokens each candidate writes.")] = 64,
    out: OutOpt = None,
) -> None:
    """Drafting the project's way against HF generate, llama.cpp and CTranslate2 used plainly and the PyTorch
    loop, as ratios; then 16 requests in one engine call against one call each."""
    out = out or result_path("text_generation")
    from bench.text_generation import run_benchmark

    if repeats < 1 or new_tokens < 1:
        raise InputError("--repeats and --new-tokens must be positive")
    settings = get_settings()
    result = run_benchmark(model or settings.writer_model, device or settings.device, repeats, new_tokens, out)
    report(result, out)


def bench_rerank(
    device: DeviceOpt = None,
    repeats: Annotated[int, typer.Option(help="Timed repetitions.")] = 5,
    out: OutOpt = None,
) -> None:
    """Scoring 8 drafts in one batch against one at a time, with milliseconds per draft."""
    out = out or result_path("rerank")
    from bench.rerank import run_benchmark

    if repeats < 1:
        raise InputError("--repeats must be positive")
    settings = get_settings()
    result = run_benchmark(settings.realism_model, settings.quality_model, settings.encoder,
                           device or settings.device, repeats, out)
    report(result, out)


def bench_encoder(
    repeats: Annotated[int, typer.Option(help="Timed repetitions (interleaved).")] = 15,
    out: OutOpt = None,
) -> None:
    """The reranker's encoder on PyTorch float32 and int8, and ONNX Runtime if installed: speed and score drift."""
    out = out or result_path("encoder_runtime")
    from bench.encoder_runtime import run_benchmark

    if repeats < 1:
        raise InputError("--repeats must be positive")
    result = run_benchmark(repeats, out)
    report(result, out)


def bench_queue(
    jobs: Annotated[int, typer.Option(help="Concurrent project jobs for the batching comparison.")] = 16,
    introductions: Annotated[int, typer.Option(help="Introduce jobs for the latency percentiles.")] = 20,
    out: OutOpt = None,
) -> None:
    """Queue overhead, batched against unbatched throughput, introduce latency, worker memory and cold start."""
    out = out or result_path("queue")
    from bench.queue import run_benchmark

    if shutil.which("redis-server") is None:
        raise ConfigError("the queue benchmark starts its own redis-server; install it (apt-get install redis-server)")
    if jobs < 2 or introductions < 2:
        raise InputError("--jobs and --introductions must be at least 2")
    run_benchmark(out, jobs, introductions)
    done("benchmark written", out)


def bench_summary(
    results: Annotated[Path, typer.Option(help="The folder of machines' results.")] = Path("bench/results"),
) -> None:
    """The headline figures (decode, text, e2e) of every machine measured, one Markdown table each."""
    from bench.summary import summary

    typer.echo(summary(results) or f"no results in {results}: run make bench")


for _name, _command in (("face", bench_face), ("text", bench_text), ("decode", bench_decode),
                        ("quantisation", bench_quantisation), ("e2e", bench_e2e), ("rerank", bench_rerank),
                        ("encoder", bench_encoder), ("queue", bench_queue),
                        ("summary", bench_summary)):
    app.command(_name)(_command)

if __name__ == "__main__":
    run(app)
