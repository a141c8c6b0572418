"""Training a pair-scoring head: binary cross-entropy on (prompt, text, target in [0, 1]) examples.

Targets are 1/0 for the realism discriminator (real/generated) and for the bootstrapped quality
model (this reply answers this request / it does not), and ratings scaled to [0, 1] for quality
feedback. Examples are split into training and validation by prompt, so validation prompts are
unseen; the epoch with the lowest validation loss is kept, and training stops when `patience`
epochs bring nothing better.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from implementor.contracts.errors import InputError
from implementor.models.common.encoder import SentenceEncoder
from implementor.models.rerank.head import HeadConfig, PairHead, PairScorer
from implementor.training.corpus.splits import BUNDLED_CORPUS, load_split
from implementor.training.metrics import roc_auc, spearman
from implementor.training.rerank.calibration import calibrate
from implementor.training.rerank.examples import PairExamples, split_by_group

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeadTrainConfig:
    epochs: int = 80  # with a frozen encoder an epoch is a few milliseconds of MLP
    batch_size: int = 64
    lr: float = 1e-3
    encoder_lr: float = 2e-5  # only when fine-tuning: BERT's usual rate
    weight_decay: float = 0.01
    patience: int = 10
    validation_fraction: float = 0.15
    finetune: bool = False
    seed: int = 0
    device: str = "auto"


def _metrics(logits: torch.Tensor, examples: PairExamples) -> dict[str, float]:
    targets, weights = torch.tensor(examples.targets), torch.tensor(examples.weights)
    losses = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    loss = float((losses * weights).sum() / weights.sum())
    out = {"loss": round(loss, 4)}
    binary = [t in (0.0, 1.0) for t in examples.targets]
    if all(binary) and 0 < sum(examples.targets) < len(examples):
        out["auc"] = round(roc_auc(logits, [int(t) for t in examples.targets]), 4)
    return out


class _Batches:
    """Shuffled mini-batches of example indices, reproducible from a seed."""

    def __init__(self, n: int, size: int, seed: int) -> None:
        self.n, self.size, self.rng = n, size, random.Random(seed)

    def __iter__(self) -> Iterator[list[int]]:
        order = list(range(self.n))
        self.rng.shuffle(order)
        return (order[i : i + self.size] for i in range(0, self.n, self.size))


class _HeadFit:
    """One head being fitted: its optimiser, the examples' targets and (frozen encoder) their features."""

    def __init__(self, encoder: SentenceEncoder, head_config: HeadConfig, examples: PairExamples,
                 config: HeadTrainConfig) -> None:
        self.encoder, self.examples, self.config = encoder, examples, config
        self.head = PairHead(head_config).to(encoder.device)
        self.scorer = PairScorer(encoder, self.head)
        params: list[dict[str, Any]] = [{"params": self.head.parameters(), "lr": config.lr}]
        self.features: torch.Tensor | None = None
        if config.finetune:
            params.append({"params": encoder.model.parameters(), "lr": config.encoder_lr})
        else:  # frozen: the encoder's output never changes, so compute it once for all epochs
            self.features = self.scorer.features(examples.prompts, examples.texts)
        self.optimizer = torch.optim.AdamW(params, weight_decay=config.weight_decay)
        self.targets = torch.tensor(examples.targets, device=encoder.device)
        self.weights = torch.tensor(examples.weights, device=encoder.device)

    def inputs(self, index: list[int]) -> torch.Tensor:
        if self.features is not None:
            return self.features[index].to(self.encoder.device)
        hc = self.head.config
        batch = self.encoder.tokenize_pairs([self.examples.prompts[i] for i in index],
                                            [self.examples.texts[i] for i in index], hc.max_length)
        return self.encoder.pair_states(batch, hc.layers)

    def epoch(self, train_idx: list[int], seed: int) -> None:
        self.head.train()
        self.encoder.model.train(self.config.finetune)
        for batch in _Batches(len(train_idx), self.config.batch_size, seed):
            index = [train_idx[i] for i in batch]
            w = self.weights[index]
            losses = F.binary_cross_entropy_with_logits(self.head(self.inputs(index)), self.targets[index],
                                                        reduction="none")
            loss = (losses * w).sum() / w.sum()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        self.head.eval()
        self.encoder.model.eval()

    def validate(self, val_idx: list[int]) -> dict[str, float]:
        val = self.examples.subset(val_idx)
        logits = (self.scorer.logits_from_features(self.features[val_idx]) if self.features is not None
                  else self.scorer.logits(val.prompts, val.texts))
        return _metrics(logits, val)

    def snapshot(self) -> Any:
        return copy.deepcopy((self.head.state_dict(), self.encoder.model.state_dict() if self.config.finetune
                              else None))

    def restore(self, state: Any) -> None:
        self.head.load_state_dict(state[0])
        if state[1] is not None:
            self.encoder.model.load_state_dict(state[1])
            # The encoder is now a model of its own: record the fingerprint of the weights that ship.
            self.head.config = self.scorer.config = replace(self.head.config,
                                                            encoder_fingerprint=self.encoder.fingerprint())


def train_head(encoder: SentenceEncoder, head_config: HeadConfig, examples: PairExamples, config: HeadTrainConfig,
               progress: bool = True) -> tuple[PairScorer, dict[str, Any]]:
    """Fit a head (and, with `finetune`, the encoder) and return the best epoch's scorer and metrics."""
    torch.manual_seed(config.seed)
    train_idx, val_idx = split_by_group(examples, config.validation_fraction, config.seed)
    fit = _HeadFit(encoder, head_config, examples, config)
    best: dict[str, Any] = {"loss": math.inf}
    history, stale, started, best_state = [], 0, time.perf_counter(), None
    bar = tqdm(range(1, config.epochs + 1), desc=f"train {head_config.task}", unit="epoch", disable=not progress)
    for epoch in bar:
        fit.epoch(train_idx, config.seed + epoch)
        metrics = fit.validate(val_idx)
        history.append({"epoch": epoch, **metrics})
        bar.set_postfix({k: f"{v:.3f}" for k, v in metrics.items()})
        if metrics["loss"] < best["loss"] - 1e-4:
            best, stale, best_state = {**metrics, "epoch": epoch}, 0, fit.snapshot()
        else:
            stale += 1
            if stale >= config.patience:
                break
    fit.restore(best_state)
    report = {
        "train_examples": len(train_idx), "validation_examples": len(val_idx), "best_epoch": best["epoch"],
        "validation": {k: v for k, v in best.items() if k != "epoch"}, "history": history,
        "wall_time_s": round(time.perf_counter() - started, 1), "train_config": asdict(config),
    }
    log.info("%s head: best epoch %d, validation %s", head_config.task, best["epoch"], report["validation"])
    return fit.scorer, report


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


def head_config(task: str, encoder: SentenceEncoder, finetune: bool) -> HeadConfig:
    """A head reading a third, two thirds and all of the encoder's layers."""
    layers = tuple(sorted({max(1, encoder.layers // 3), max(1, 2 * encoder.layers // 3), encoder.layers}))
    return HeadConfig(task=task, encoder=encoder.name, encoder_fingerprint=encoder.fingerprint(),  # type: ignore[arg-type]
                      encoder_width=encoder.width, finetuned_encoder=finetune, layers=layers)


def run_realism_training(spec: RealismTrainSpec) -> dict[str, Any]:
    """The realism discriminator: corpus texts against the writer's drafts (live sampling); returns its card."""
    from implementor.models.writer.engine_choice import load_engine
    from implementor.models.writer.model import Writer
    from implementor.training.rerank.realism_data import generate_fakes, pick_prompts, realism_examples, writer_identity

    if spec.prompts < 2 or spec.fakes_per_prompt < 1 or spec.epochs < 1:
        raise InputError("--prompts must be at least 2, --fakes-per-prompt and --epochs positive")
    writer = Writer.load(spec.writer, spec.device)
    records = pick_prompts(load_split(spec.corpus, spec.split), spec.prompts, spec.seed)
    fakes = generate_fakes(writer, records, spec.fakes_per_prompt, spec.seed, spec.out / "fakes.jsonl",
                           engine=load_engine(writer, spec.engine))
    bert = SentenceEncoder.load(spec.encoder, spec.device)
    examples = realism_examples(records, fakes)
    config = HeadTrainConfig(epochs=spec.epochs, finetune=spec.finetune, seed=spec.seed, device=spec.device)
    scorer, report = train_head(bert, head_config("realism", bert, spec.finetune), examples, config)
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
    from implementor.training.rerank.quality_data import bootstrap_examples, feedback_examples, load_feedback
    from implementor.training.rerank.realism_data import pick_prompts

    if spec.prompts < 2 or spec.epochs < 1 or spec.feedback_weight <= 0:
        raise InputError("--prompts must be at least 2, --epochs and --feedback-weight positive")
    records = pick_prompts(load_split(spec.corpus, "train"), spec.prompts, spec.seed)
    drafts = [json.loads(line) for line in spec.drafts.read_text().splitlines()[1:]] if spec.drafts else None
    examples = bootstrap_examples(records, spec.seed, drafts)
    ratings = load_feedback(spec.feedback) if spec.feedback else []
    if ratings:
        examples = examples + feedback_examples(ratings, spec.feedback_weight)
    bert = SentenceEncoder.load(spec.encoder, spec.device)
    config = HeadTrainConfig(epochs=spec.epochs, finetune=spec.finetune, seed=spec.seed, device=spec.device)
    scorer, report = train_head(bert, head_config("quality", bert, spec.finetune), examples, config)
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
