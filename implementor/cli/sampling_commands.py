"""`implementor eval sampling`: try live sampling settings on the writer against a fresh judge, one row per run.

Room: `implementor`, which may use every room; the probe itself is `implementor/training/adversarial/probe.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from implementor.cli.console import command_line, done
from implementor.cli.text_commands import DeviceOpt, WriterOpt
from implementor.config import get_settings
from implementor.contracts.errors import InputError


def evaluate_sampling(
    model: WriterOpt = None,
    temperature: Annotated[float | None, typer.Option(help="Temperature for both tasks. Default: the card's.")] = None,
    top_k: Annotated[int | None, typer.Option(help="Top-k for both tasks (0: off). Default: the card's.")] = None,
    top_p: Annotated[float | None, typer.Option(help="Top-p for both tasks. Default: the card's.")] = None,
    repetition_penalty: Annotated[float | None, typer.Option(help="Repetition penalty for both tasks. "
                                                                  "Default: the card's.")] = None,
    prompts: Annotated[int, typer.Option(help="Validation prompts per task (CVs, replies).")] = 40,
    drafts: Annotated[int, typer.Option(help="Drafts per prompt.")] = 4,
    cv_keep: Annotated[int, typer.Option(help="CV drafts that may go on past their Profile, one at a time, "
                                              "chosen by the bundled realism head as the worker does "
                                              "(IMPLEMENTOR_CV_KEEP); 0: all.")] = 0,
    data: Annotated[Path | None, typer.Option(help="Corpus with a validation split. Default: the bundled one.")] = None,
    out: Annotated[Path, typer.Option(help="JSONL file the row is appended to.")] = Path("sampling_probe.jsonl"),
    seed: Annotated[int, typer.Option(help="Seed for prompts, drafts and the fresh judge.")] = 0,
    device: DeviceOpt = None,
) -> None:
    """Draft held-out prompts with these settings; a fresh discriminator's AUC, invented words, topicality."""
    from implementor.training.adversarial.probe import SamplingProbeSpec, probe_sampling
    from implementor.training.corpus.splits import BUNDLED_CORPUS

    if prompts < 10 or drafts < 1 or cv_keep < 0:
        raise InputError("--prompts must be at least 10 (the judge holds out 30% of them), --drafts at least 1 "
                         "and --cv-keep at least 0")
    overrides = {k: v for k, v in (("temperature", temperature), ("top_k", top_k), ("top_p", top_p),
                                   ("repetition_penalty", repetition_penalty)) if v is not None}
    settings = get_settings()
    try:
        row = probe_sampling(SamplingProbeSpec(
            writer=model or settings.writer_model, overrides=overrides, prompts_per_task=prompts, drafts=drafts,
            corpus=data or BUNDLED_CORPUS, encoder=settings.encoder, device=device or settings.device,
            engine=settings.writer_engine, seed=seed, cv_keep=cv_keep))
    except ValueError as exc:  # a setting out of range (SamplingSettings checks each)
        raise InputError(str(exc)) from exc
    row = {"command": command_line(), **row}
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    typer.echo(json.dumps({k: row[k] for k in ("overrides", "auc", "pass_rate", "invented_cv", "invented_reply",
                                               "subject_mention", "distinct_2", "drafting_s")}, indent=2))
    done("sampling probe appended", out)


def evaluate_consistency(
    model: WriterOpt = None,
    colleagues: Annotated[int, typer.Option(help="Colleagues hired as /introduce hires them.")] = 50,
    requests_each: Annotated[int, typer.Option(help="Test-split requests each colleague answers.")] = 4,
    raw: Annotated[int, typer.Option(help="Requests also answered with no drafting rule (the writer's own "
                                          "rate); 0: none.")] = 60,
    seed: Annotated[int, typer.Option(help="Fixes the colleagues, the requests and the drafts.")] = 0,
    data: Annotated[Path | None, typer.Option(help="Corpus with a test split. Default: the bundled one.")] = None,
    out: Annotated[Path, typer.Option(help="The JSON report to write.")] = Path("consistency.json"),
    device: DeviceOpt = None,
) -> None:
    """Does the colleague keep its story? Its posted CVs' facts, and its replies against its own CV."""
    from implementor.cli.text_commands import explain_pipeline
    from implementor.models.common.checkpoint import write_json
    from implementor.training.corpus.splits import BUNDLED_CORPUS
    from implementor.training.writer.consistency import consistency

    if colleagues < 1 or requests_each < 1 or raw < 0:
        raise InputError("--colleagues and --requests-each must be positive, --raw at least 0")
    pipeline = explain_pipeline(get_settings(), model, device, None)
    report = {"command": command_line(), "engine": pipeline.engine.name,
              **consistency(pipeline, data or BUNDLED_CORPUS, colleagues, requests_each, raw, seed)}
    write_json(out, report)
    typer.echo(json.dumps(report, indent=2))
    done("consistency written", out)
