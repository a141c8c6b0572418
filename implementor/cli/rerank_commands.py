"""Commands for the BERT heads: train the realism discriminator and the quality model, evaluate."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Literal

import typer

from implementor.cli.console import command_line, done
from implementor.cli.text_commands import DeviceOpt
from implementor.config import get_settings
from implementor.contracts.errors import InputError

# Here "--model" would be ambiguous (which model?): the writer whose drafts the heads judge.
WriterOpt = Annotated[
    Path | None,
    typer.Option("--writer", help="Writer checkpoint directory. Default: IMPLEMENTOR_WRITER_MODEL, else bundled."),
]

log = logging.getLogger(__name__)

EncoderOpt = Annotated[str | None, typer.Option(help="BERT name or directory. Default: IMPLEMENTOR_ENCODER.")]
FinetuneOpt = Annotated[bool, typer.Option(help="Fine-tune the whole encoder too (wants a GPU).")]
CorpusOpt = Annotated[Path | None, typer.Option("--data", help="Corpus directory. Default: the bundled one.")]


def train_realism(
    out: Annotated[Path, typer.Option(help="Checkpoint directory to write.")],
    writer: WriterOpt = None,
    data: CorpusOpt = None,
    split: Annotated[Literal["train", "validation"], typer.Option(help="Corpus split to learn from.")] = "train",
    prompts: Annotated[int, typer.Option(help="Prompts per task (CVs, replies) to draft fakes for.")] = 400,
    fakes_per_prompt: Annotated[int, typer.Option(help="Drafts per prompt.")] = 1,
    encoder: EncoderOpt = None,
    finetune: FinetuneOpt = False,
    epochs: Annotated[int, typer.Option(help="At most this many epochs.")] = 80,
    false_rejection: Annotated[float, typer.Option(help="Share of held-out real texts the calibrated threshold "
                                                        "may reject.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed for prompts, drafts, split and initialisation.")] = 0,
    device: DeviceOpt = None,
) -> None:
    """Train the realism discriminator on corpus texts against the writer's drafts (live sampling), calibrated."""
    from implementor.training.corpus.splits import BUNDLED_CORPUS
    from implementor.training.rerank.runs import RealismTrainSpec, run_realism_training

    settings = get_settings()
    card = run_realism_training(RealismTrainSpec(
        out=out, corpus=data or BUNDLED_CORPUS, encoder=encoder or settings.encoder, finetune=finetune,
        epochs=epochs, seed=seed, device=device or settings.device, command=command_line(),
        writer=writer or settings.writer_model, split=split, prompts=prompts, fakes_per_prompt=fakes_per_prompt,
        engine=settings.writer_engine, threshold=settings.realism_threshold, false_rejection=false_rejection))
    typer.echo(json.dumps(card["metrics"]["validation"], indent=2))
    done("realism discriminator written", out)


def train_quality(
    out: Annotated[Path, typer.Option(help="Checkpoint directory to write.")],
    data: CorpusOpt = None,
    feedback: Annotated[Path | None, typer.Option(help="Members' ratings (JSONL from `feedback export`).")] = None,
    feedback_weight: Annotated[float, typer.Option(help="How much one rating counts against one proxy pair.")] = 5.0,
    drafts: Annotated[Path | None, typer.Option(help="Writer drafts (a realism run's fakes.jsonl) to use as "
                                                     "off-topic negatives.")] = None,
    prompts: Annotated[int, typer.Option(help="Corpus prompts per task for the proxy task.")] = 1200,
    encoder: EncoderOpt = None,
    finetune: FinetuneOpt = False,
    epochs: Annotated[int, typer.Option(help="At most this many epochs.")] = 80,
    seed: Annotated[int, typer.Option(help="Seed for sampling, split and initialisation.")] = 0,
    device: DeviceOpt = None,
) -> None:
    """Train the quality model on ratings if given, bootstrapping on matched/mismatched pairs."""
    from implementor.training.corpus.splits import BUNDLED_CORPUS
    from implementor.training.rerank.runs import QualityTrainSpec, run_quality_training

    settings = get_settings()
    card = run_quality_training(QualityTrainSpec(
        out=out, corpus=data or BUNDLED_CORPUS, encoder=encoder or settings.encoder, finetune=finetune,
        epochs=epochs, seed=seed, device=device or settings.device, command=command_line(),
        feedback=feedback, feedback_weight=feedback_weight, drafts=drafts, prompts=prompts))
    typer.echo(json.dumps(card["metrics"]["validation"], indent=2))
    done("quality model written", out)


def evaluate(
    writer: WriterOpt = None,
    realism: Annotated[Path | None, typer.Option(help="Realism head. Default: IMPLEMENTOR_REALISM_MODEL.")] = None,
    quality: Annotated[Path | None, typer.Option(help="Quality head. Default: IMPLEMENTOR_QUALITY_MODEL.")] = None,
    judge: Annotated[Path | None, typer.Option(help="Independent realism head (other split and seed). "
                                                    "Default: the bundled judge.")] = None,
    data: CorpusOpt = None,
    feedback: Annotated[Path | None, typer.Option(help="Held-out ratings, for the quality model's Spearman.")] = None,
    prompts: Annotated[int, typer.Option(help="Held-out prompts per task (CVs, replies) for the lift.")] = 60,
    out: Annotated[Path, typer.Option(help="JSON to write.")] = Path("eval_rerank.json"),
    device: DeviceOpt = None,
) -> None:
    """Discriminator and quality AUCs, and the lift of reranking as judged by an independent discriminator."""
    from implementor.models.rerank.head import PairScorer
    from implementor.models.rerank.policy import RerankPolicy
    from implementor.models.rerank.reranker import BUNDLED_JUDGE, Reranker
    from implementor.models.writer.model import Writer
    from implementor.training.corpus.splits import BUNDLED_CORPUS
    from implementor.training.rerank.eval import RerankEvalSpec, evaluate_reranker
    from implementor.training.rerank.quality_data import load_feedback

    if prompts < 50:
        raise InputError("--prompts must be at least 50 per task, so that the lift rests on 100 prompts or more")
    settings = get_settings()
    device = device or settings.device
    the_writer = Writer.load(writer or settings.writer_model, device)
    reranker = Reranker.load(realism or settings.realism_model, quality or settings.quality_model,
                             settings.encoder, device, RerankPolicy(threshold=settings.realism_threshold))
    reranker.check_sampling(the_writer.sampling)
    the_judge = PairScorer.load(judge or BUNDLED_JUDGE, reranker.realism.encoder, "realism", device)
    from implementor.models.writer.engine_choice import load_engine

    report = evaluate_reranker(the_writer, reranker, the_judge, data or BUNDLED_CORPUS,
                               RerankEvalSpec(prompts_per_task=prompts), out.with_suffix(".drafts.jsonl"),
                               load_feedback(feedback) if feedback else None,
                               engine=load_engine(the_writer, settings.writer_engine))
    from implementor.models.common.checkpoint import write_json

    write_json(out, {"command": command_line(), **report})
    typer.echo(json.dumps(report, indent=2))
    done(f"evaluation written ({'meets' if report['passed'] else 'misses'} the bars)", out)
