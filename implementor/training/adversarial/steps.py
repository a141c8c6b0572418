"""One adversarial round's parts: draft, judge, choose what to learn from, fine-tune, and judge afresh.

Method: rejection-sampling fine-tuning (RFT). For each training prompt the writer drafts with the
live settings; the current discriminator and the quality head score every draft; the best draft of
each prompt that passes the sanity gates (a CV that parses, lists no skill twice; nothing too short)
becomes a training example, mixed one to one with real corpus texts so that the writer keeps real
language; the writer takes one epoch of next-token training on that mix at a low learning rate.
Why RFT and not preference optimisation (TRL's DPOTrainer): it is the plain language-model loss on
text the judge already believes, so it is stable at this size and costs one forward and backward pass
per token on two CPU cores; DPO needs a reference model's passes on a chosen and a rejected draft per
example, more than twice the compute, for pairs that are often near-ties under a small judge.

A fresh discriminator per round (a new seed, the realism head's features) learns held-out real texts
against the new writer's drafts for prompts the writer never learnt from, and its held-out ROC AUC,
per task, is how far the writer still is from passing for real.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from implementor.contracts.cv import cv_skills, parse_cv
from implementor.contracts.records import CVRecord, PairRecord, Record
from implementor.models.common.encoder import SentenceEncoder
from implementor.models.rerank.head import PairScorer
from implementor.models.writer.engine import Engine
from implementor.models.writer.model import Writer
from implementor.models.writer.pruning import Prune
from implementor.training.corpus.splits import write_jsonl
from implementor.training.metrics import roc_auc
from implementor.training.rerank.examples import PairExamples, group_of, prompt_for_judge, split_by_group
from implementor.training.rerank.realism_data import draft_records, realism_examples
from implementor.training.rerank.train import HeadTrainConfig, fit_head
from implementor.training.writer.character import repeated_bullet_rate
from implementor.training.writer.eval import distinctness

MIN_CHARS = 40


@dataclass
class Drafted:
    record: Record
    drafts: list[str]


def draft(writer: Writer, engine: Engine, records: list[Record], n: int, seed: int,
          prune_cvs: Callable[[list[CVRecord]], Prune | None] | None = None) -> list[Drafted]:
    drafts = draft_records(writer, records, n, seed, engine, prune_cvs=prune_cvs)
    return [Drafted(r, d) for r, d in zip(records, drafts, strict=True)]


def sane(record: Record, text: str) -> bool:
    """The gates a draft must pass to be learnt from, whatever the judge thinks of it."""
    if len(text) < MIN_CHARS:
        return False
    if isinstance(record, CVRecord):
        skills = [" ".join(s.lower().split()) for s in cv_skills(text)]
        return parse_cv(text) is not None and len(skills) == len(set(skills))
    return True


def choose(drafted: list[Drafted], realism: PairScorer, quality: PairScorer) -> list[Record]:
    """Per prompt, the sane draft the judges like best (realism logit plus quality logit), as a record."""
    rows = [(d, text) for d in drafted for text in d.drafts if sane(d.record, text)]
    if not rows:
        return []
    prompts, texts = [prompt_for_judge(d.record) for d, _ in rows], [t for _, t in rows]
    features = realism.features(prompts, texts)
    score = realism.logits_from_features(features) + quality.logits_from_features(features)
    best: dict[int, tuple[float, str]] = {}
    for (d, text), value in zip(rows, score.tolist(), strict=True):
        if id(d) not in best or value > best[id(d)][0]:
            best[id(d)] = (value, text)
    out: list[Record] = []
    for d in drafted:
        if id(d) in best:
            text = best[id(d)][1]
            out.append(d.record.model_copy(update={"body": text}) if isinstance(d.record, CVRecord)
                       else d.record.model_copy(update={"reply": text}))
    return out


def mix(chosen: list[Record], real: list[Record], seed: int) -> list[Record]:
    """The chosen drafts and as many real texts, shuffled: what one round learns from."""
    rng = random.Random(seed)
    mixed = chosen + rng.sample(real, min(len(real), len(chosen)))
    rng.shuffle(mixed)
    return mixed


def write_corpus(folder: Path, train: list[Record], validation: list[Record]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "train.jsonl", train)
    write_jsonl(folder / "validation.jsonl", validation)
    return folder


def probe_measures(drafted: list[Drafted]) -> dict[str, float]:
    """Distinct bigrams among each reply prompt's drafts, and the share of CV drafts that repeat a skill."""
    replies = [d.drafts for d in drafted if isinstance(d.record, PairRecord) and len(d.drafts) > 1]
    cvs = [t for d in drafted if isinstance(d.record, CVRecord) for t in d.drafts]
    return {"distinct_2": round(sum(distinctness(r)["distinct_2"] for r in replies) / max(1, len(replies)), 3),
            "repeated_skill_rate": round(repeated_bullet_rate(cvs), 3)}


def fresh_judge(encoder: SentenceEncoder, real: list[Record], drafted: list[Drafted], seed: int,
                epochs: int = 60) -> tuple[PairScorer, dict[str, Any]]:
    """A new realism head on real texts against drafts, and its ROC AUC per task on prompts it never saw."""
    fakes = [{"group": group_of(d.record), "prompt": prompt_for_judge(d.record), "text": t}
             for d in drafted for t in d.drafts]
    examples = realism_examples(real, fakes)
    fit, held = split_by_group(examples, 0.3, seed)
    config = HeadTrainConfig(epochs=epochs, seed=seed, device=str(encoder.device))
    scorer, report = fit_head("realism", encoder, examples.subset(fit), config, progress=False)
    held_out = examples.subset(held)
    logits = scorer.logits(held_out.prompts, held_out.texts).tolist()  # one encoder pass for both measures
    return scorer, {"auc": auc_per_task(logits, held_out), "pass_rate": pass_rate_per_task(logits, held_out),
                    "train": report["validation"]}


def pass_rate_per_task(logits: list[float], examples: PairExamples, false_rejection: float = 0.1
                       ) -> dict[str, float]:
    """Share of held-out prompts with a draft over a threshold that rejects `false_rejection` of real texts.

    The threshold is set per task from the real texts' scores (as the live judge's calibration sets it),
    so the pass rate can only rise by drafts looking more like real text, not by a laxer judge.
    """
    out = {}
    for task in ("cv", "reply"):
        real = sorted(x for x, t, g in zip(logits, examples.targets, examples.groups, strict=True)
                      if t == 1 and g.startswith(f"{task}:"))
        best: dict[str, float] = {}
        for x, t, g in zip(logits, examples.targets, examples.groups, strict=True):
            if t == 0 and g.startswith(f"{task}:"):
                best[g] = max(best.get(g, -math.inf), x)
        if real and best:
            threshold = real[min(len(real) - 1, int(false_rejection * len(real)))]
            out[task] = round(sum(b >= threshold for b in best.values()) / len(best), 3)
    return out


def auc_per_task(logits: list[float], examples: PairExamples) -> dict[str, float]:
    out = {}
    for task in ("cv", "reply"):
        index = [i for i, g in enumerate(examples.groups) if g.startswith(f"{task}:")]
        labels = [int(examples.targets[i]) for i in index]
        if 0 < sum(labels) < len(labels):
            out[task] = round(roc_auc([logits[i] for i in index], labels), 4)
    return out
