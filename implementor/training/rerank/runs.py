"""The heads' training runs, from the corpus (`train realism`, `train quality`) and the priors that the
learner's retraining shares with them.

- `quality_prior`: matched against mismatched corpus pairs (and writer drafts as off-topic negatives),
  the quality head's bootstrap;
- `realism_prior`: corpus texts against the live writer's drafts of the same prompts;
- `run_realism_training`, `run_quality_training`: a head from the prior (and members' ratings), fitted
  by `train.fit_head`, calibrated and saved with its card.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from implementor.contracts.errors import InputError
from implementor.contracts.records import Record
from implementor.models.common.encoder import SentenceEncoder
from implementor.models.rerank.head import PairScorer
from implementor.models.writer.engine import Engine
from implementor.models.writer.model import Writer
from implementor.training.corpus.splits import BUNDLED_CORPUS, load_split
from implementor.training.metrics import spearman
from implementor.training.rerank.calibration import calibrate
from implementor.training.rerank.examples import PairExamples, split_by_group
from implementor.training.rerank.quality_data import bootstrap_examples, feedback_examples, load_feedback
from implementor.training.rerank.realism_data import generate_fakes, pick_prompts, realism_examples, writer_identity
from implementor.training.rerank.train import HeadTrainConfig, fit_head


@dataclass(frozen=True)
class HeadRunSpec:
    """What both `train realism` and `train quality` ask for: where, on which encoder, how long."""

    out: Path
    corpus: Path = BUNDLED_CORPUS
    encoder: str = "all-MiniLM-L6-v2"
    finetune: bool = False  # train the whole encoder too (wants a GPU)
    epochs: int = 80
    seed: int = 0
    device: str = "auto"
    command: str = ""


@dataclass(frozen=True)
class RealismTrainSpec(HeadRunSpec):
    writer: Path | None = None  # whose drafts are the fakes; None: the bundled writer
    split: str = "train"
    prompts: int = 400  # per task (CVs, replies)
    fakes_per_prompt: int = 1
    engine: str = "auto"  # how the writer drafts them (the live engine, so the fakes are what is posted)
    threshold: float = 0.9  # the live threshold the calibration is for
    false_rejection: float = 0.1  # the share of held-out real texts allowed below it
    # Real texts the threshold is calibrated on: another split's (occupations and tasks the head never saw,
    # as live ones are), and many of them; the held-out prompts of `split` alone are a few dozen a task.
    calibration_split: str = "validation"
    calibration_texts: int = 200  # per task


@dataclass(frozen=True)
class QualityTrainSpec(HeadRunSpec):
    feedback: Path | None = None  # members' ratings (JSONL from `feedback export`)
    feedback_weight: float = 5.0  # how much one rating counts against one proxy pair
    drafts: Path | None = None  # writer drafts (a realism run's fakes.jsonl) as off-topic negatives
    prompts: int = 1200


def quality_prior(corpus: Path, per_task: int, seed: int, drafts: list[dict[str, str]] | None = None
                  ) -> tuple[list[Record], PairExamples]:
    """`per_task` CVs and pairs of the corpus's training split, and the bootstrap examples made of them."""
    records = pick_prompts(load_split(corpus, "train"), per_task, seed)
    return records, bootstrap_examples(records, seed, drafts)


def realism_prior(writer: Writer, engine: Engine, corpus: Path, split: str, per_task: int, seed: int,
                  fakes_per_prompt: int = 1, cache: Path | None = None, progress: bool = True
                  ) -> tuple[list[Record], list[dict[str, str]], PairExamples]:
    """`per_task` CVs and pairs of a split, the writer's drafts of their prompts, and real-against-draft examples."""
    records = pick_prompts(load_split(corpus, split), per_task, seed)
    fakes = generate_fakes(writer, records, fakes_per_prompt, seed, cache, progress=progress, engine=engine)
    return records, fakes, realism_examples(records, fakes)


def run_realism_training(spec: RealismTrainSpec) -> dict[str, Any]:
    """The realism discriminator: corpus texts against the writer's drafts (live sampling); returns its card."""
    from implementor.models.writer.engine_choice import load_engine

    if spec.prompts < 2 or spec.fakes_per_prompt < 1 or spec.epochs < 1:
        raise InputError("--prompts must be at least 2, --fakes-per-prompt and --epochs positive")
    writer = Writer.load(spec.writer, spec.device)
    records, fakes, examples = realism_prior(writer, load_engine(writer, spec.engine), spec.corpus, spec.split,
                                             spec.prompts, spec.seed, spec.fakes_per_prompt, spec.out / "fakes.jsonl")
    bert = SentenceEncoder.load(spec.encoder, spec.device)
    config = HeadTrainConfig(epochs=spec.epochs, finetune=spec.finetune, seed=spec.seed, device=spec.device)
    scorer, report = fit_head("realism", bert, examples, config)
    _, held = split_by_group(examples, config.validation_fraction, config.seed)  # the prompts it did not learn
    unseen = None if spec.calibration_split == spec.split else realism_examples(
        pick_prompts(load_split(spec.corpus, spec.calibration_split), spec.calibration_texts, spec.seed), [])
    return scorer.save(spec.out, {
        "model": "realism-head", "command": spec.command,
        "writer": {"path": str(writer.path), **writer_identity(writer)}, "sampling": writer.sampling.to_dict(),
        "data": {"corpus": str(spec.corpus), "split": spec.split, "prompts": len(records), "fakes": len(fakes)},
        "calibration": calibrate_per_task(scorer, examples.subset(held), spec.threshold, spec.false_rejection,
                                          unseen),
        "metrics": {k: v for k, v in report.items() if k != "history"}, "history": report["history"],
    })


def calibrate_per_task(scorer: PairScorer, held: PairExamples, threshold: float, false_rejection: float,
                       real_texts: PairExamples | None = None) -> dict[str, Any]:
    """Per task, the shift that lets `false_rejection` of held-out real texts fall below `threshold`.

    The real texts are `real_texts`' where given (each task's, if it has any), else `held`'s; the held-out
    drafts give the draft pass rate it reports."""
    def scored(examples: PairExamples) -> list[tuple[float, float, str]]:
        logits = scorer.logits(examples.prompts, examples.texts).tolist()
        return list(zip(logits, examples.targets, examples.groups, strict=True))

    def of(rows: list[tuple[float, float, str]], task: str, target: float) -> list[float]:
        return [v for v, t, g in rows if t == target and g.startswith(f"{task}:")]

    held_rows = scored(held)
    unseen_rows = scored(real_texts) if real_texts is not None else []
    out: dict[str, Any] = {}
    for task in ("cv", "reply"):
        real = of(unseen_rows, task, 1.0) or of(held_rows, task, 1.0)
        if real:
            out[task] = calibrate(real, of(held_rows, task, 0.0), threshold, false_rejection)
    return out


def run_quality_training(spec: QualityTrainSpec) -> dict[str, Any]:
    """The quality model: ratings if given, bootstrapped on matched/mismatched pairs; returns its card."""
    if spec.prompts < 2 or spec.epochs < 1 or spec.feedback_weight <= 0:
        raise InputError("--prompts must be at least 2, --epochs and --feedback-weight positive")
    drafts = [json.loads(line) for line in spec.drafts.read_text().splitlines()[1:]] if spec.drafts else None
    records, prior = quality_prior(spec.corpus, spec.prompts, spec.seed, drafts)
    ratings = load_feedback(spec.feedback) if spec.feedback else []
    taught = feedback_examples(ratings, spec.feedback_weight) if ratings else None
    examples = prior + taught if taught is not None else prior
    bert = SentenceEncoder.load(spec.encoder, spec.device)
    config = HeadTrainConfig(epochs=spec.epochs, finetune=spec.finetune, seed=spec.seed, device=spec.device)
    scorer, report = fit_head("quality", bert, prior, config, taught)
    metrics: dict[str, Any] = {k: v for k, v in report.items() if k != "history"}
    if ratings:
        _, held = split_by_group(examples, config.validation_fraction, config.seed)
        rated = [i for i in held if examples.groups[i].startswith("feedback:")]
        if len(rated) >= 3:
            predicted = scorer.logits([examples.prompts[i] for i in rated], [examples.texts[i] for i in rated])
            metrics["feedback_spearman"] = round(spearman(predicted, [examples.targets[i] for i in rated]), 4)
    return scorer.save(spec.out, {
        "model": "quality-head", "command": spec.command,
        "data": {"corpus": str(spec.corpus), "prompts": len(records), "ratings": len(ratings),
                 "feedback": str(spec.feedback) if spec.feedback else None, "examples": len(examples)},
        "metrics": metrics, "history": report["history"],
    })
