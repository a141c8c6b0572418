"""`implementor eval sampling`: what a set of sampling settings does to the writer's drafts, before it goes live.

The same probe as the adversarial rounds' (`steps.py`): held-out validation prompts of both tasks,
a few drafts each with the settings given (the live rules: CVs stopped, cut and redrafted as the
pipeline does), and a fresh discriminator trained on part of the prompts' real texts against the
drafts and scored on the rest (its ROC AUC, and the share of held-out prompts with a draft over a
threshold that rejects 10% of real texts). Beside it, the writer evaluation's measures that sampling
moves most: invented words, replies that mention the request's subject, variety, repeated skills.
Rows are appended to a JSONL file, so that a sweep of settings reads as one table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from implementor.contracts.records import CVRecord, PairRecord
from implementor.models.common.encoder import MINILM, SentenceEncoder
from implementor.models.writer.engine_choice import load_engine
from implementor.models.writer.model import LiveSampling, Writer
from implementor.models.writer.pruning import Prune
from implementor.training.adversarial import steps
from implementor.training.corpus.splits import BUNDLED_CORPUS, load_split
from implementor.training.rerank.realism_data import pick_prompts
from implementor.training.writer.eval import (
    corpus_vocabulary,
    invented_word_rate,
    mentions_subject,
    reply_context,
    training_texts,
)

TUNABLE = ("temperature", "top_k", "top_p", "repetition_penalty")


@dataclass(frozen=True)
class SamplingProbeSpec:
    writer: Path | None  # None: the bundled writer
    overrides: dict[str, float]  # of TUNABLE, for both tasks; the card's values for the rest
    prompts_per_task: int = 40
    drafts: int = 4
    corpus: Path = BUNDLED_CORPUS
    encoder: str = MINILM
    device: str = "cpu"
    engine: str = "auto"
    seed: int = 0
    cv_keep: int = 0  # CV drafts that may go on past their Profile, one at a time (`pipeline.cv_prune`), as live


def with_overrides(sampling: LiveSampling, overrides: dict[str, float]) -> LiveSampling:
    unknown = set(overrides) - set(TUNABLE)
    if unknown:
        raise ValueError(f"cannot override {sorted(unknown)}; tunable: {', '.join(TUNABLE)}")
    typed = {k: int(v) if k == "top_k" else float(v) for k, v in overrides.items()}
    return LiveSampling(cv=replace(sampling.cv, **typed), reply=replace(sampling.reply, **typed))  # type: ignore[arg-type]


def _text_measures(corpus: Path, drafted: list[steps.Drafted]) -> dict[str, float]:
    known = corpus_vocabulary(training_texts(corpus))
    cvs = [(f"{d.record.name} {d.record.title}", t) for d in drafted if isinstance(d.record, CVRecord)
           for t in d.drafts]
    replies = [(d.record, t) for d in drafted if isinstance(d.record, PairRecord) for t in d.drafts]
    asked = [(reply_context(r), t) for r, t in replies]
    on_subject = [mentions_subject(t, r.subject) for r, t in replies if r.subject]
    return {"invented_cv": round(invented_word_rate(cvs, known), 4),
            "invented_reply": round(invented_word_rate(asked, known), 4),
            "subject_mention": round(sum(on_subject) / max(1, len(on_subject)), 3),
            "cv_drafts": len(cvs), "reply_drafts": len(replies)}


def _cv_prune(spec: SamplingProbeSpec) -> Callable[[list[CVRecord]], Prune | None] | None:
    """What the worker prunes CV drafts with (`pipeline.cv_prune`): the bundled heads, the live keep."""
    if not spec.cv_keep:
        return None
    from implementor.models.pipeline import cv_prune
    from implementor.models.rerank.reranker import Reranker

    reranker = Reranker.load(None, None, spec.encoder, spec.device)
    return lambda cvs: cv_prune(reranker, [(r.name, r.title) for r in cvs], spec.cv_keep)


def probe_sampling(spec: SamplingProbeSpec) -> dict[str, Any]:
    """One row: the settings, the fresh judge's AUC and pass rate, and the text measures."""
    writer = Writer.load(spec.writer, spec.device)
    writer.sampling = with_overrides(writer.sampling, spec.overrides)
    engine = load_engine(writer, spec.engine)
    probe = pick_prompts(load_split(spec.corpus, "validation"), spec.prompts_per_task, spec.seed)
    started = time.perf_counter()
    drafted = steps.draft(writer, engine, probe, spec.drafts, spec.seed + 1, _cv_prune(spec))
    drafting_s = time.perf_counter() - started
    _, judged = steps.fresh_judge(SentenceEncoder.load(spec.encoder, spec.device), probe, drafted, spec.seed)
    return {"writer": str(writer.path), "sampling": writer.sampling.to_dict(), "overrides": spec.overrides,
            "auc": judged["auc"], "pass_rate": judged["pass_rate"],
            **_text_measures(spec.corpus, drafted), **steps.probe_measures(drafted),
            "engine": engine.name, "drafting_s": round(drafting_s, 1),
            "spec": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(spec).items()}}
