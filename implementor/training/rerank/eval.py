"""Judging the reranker: are its heads right, and does choosing with them make better posts?

- the realism discriminator's ROC AUC on held-out real texts against held-out drafts (test split);
- the quality model's ROC AUC on held-out matched against mismatched pairs, and its Spearman
  correlation with ratings when feedback is given;
- per task, the share of real texts and of drafts over the live threshold, and the share of prompts
  with at least one draft over it (what decides whether a member's post passed the judge);
- the lift: for each held-out prompt the writer drafts as many candidates as it does live (the card's
  number per task); the reranker's choice and a random choice are both shown to a judge the reranker
  never saw (a discriminator trained on the validation split, with another seed). The lift is how much
  more often the chosen draft is judged real (P(real) >= 0.5) than the random one. For replies, how
  often each choice mentions the request's subject is reported too (the writer evaluation's measure).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from implementor.contracts.records import CVRecord, PairRecord, Record
from implementor.models.rerank.head import PairScorer
from implementor.models.rerank.reranker import Reranker, calibration_shift
from implementor.models.writer.engine import Engine
from implementor.models.writer.model import Writer
from implementor.training.corpus.splits import load_split
from implementor.training.metrics import roc_auc, spearman
from implementor.training.rerank.examples import PairExamples, prompt_for_judge
from implementor.training.rerank.quality_data import Feedback, bootstrap_examples
from implementor.training.rerank.realism_data import generate_fakes, pick_prompts, realism_examples
from implementor.training.writer.eval import mentions_subject

log = logging.getLogger(__name__)

BARS = {"realism_auc": 0.85, "quality_auc": 0.8, "lift": 0.15}


@dataclass(frozen=True)
class RerankEvalSpec:
    prompts_per_task: int = 60  # 120 held-out prompts in all
    candidates: int | None = None  # per prompt; None: the writer's live number for each task
    seed: int = 0


def _drafts(writer: Writer, prompts: list[Record], spec: RerankEvalSpec, cache: Path | None, progress: bool,
            engine: Engine | None) -> list[dict[str, str]]:
    """Each task's prompts drafted as many times as the pipeline drafts them (or `spec.candidates`)."""
    out: list[dict[str, str]] = []
    for task, kind in (("cv", CVRecord), ("reply", PairRecord)):
        records = [r for r in prompts if isinstance(r, kind)]
        n = spec.candidates or writer.sampling.for_task(task).candidates
        out += generate_fakes(writer, records, n, spec.seed, cache and cache.with_suffix(f".{task}.jsonl"), progress,
                              engine)
    return out


def _probabilities(scorer: PairScorer, prompts: list[str], texts: list[str]) -> torch.Tensor:
    return torch.sigmoid(scorer.logits(prompts, texts))


def _lift(reranker: Reranker, judge: PairScorer, prompts: list[Record], drafts: list[dict[str, str]],
          spec: RerankEvalSpec) -> dict[str, Any]:
    """How much more often the independent judge believes the reranker's choice than a random draft."""
    rng = random.Random(spec.seed)
    by_prompt: dict[str, list[str]] = {}
    for d in drafts:
        by_prompt.setdefault(d["prompt"], []).append(d["text"])
    chosen, random_pick, low_confidence, subjects = [], [], 0, []
    for record in prompts:
        prompt = prompt_for_judge(record)
        texts = by_prompt.get(prompt, [])
        if len(texts) < 2:
            continue
        ranked = reranker.rerank(prompt, texts, "cv" if isinstance(record, CVRecord) else "reply")
        low_confidence += ranked.low_confidence
        chosen.append((prompt, ranked.text))
        random_pick.append((prompt, texts[rng.randrange(len(texts))]))
        if isinstance(record, PairRecord) and record.subject:
            subjects.append((mentions_subject(chosen[-1][1], record.subject),
                             mentions_subject(random_pick[-1][1], record.subject)))
    judged_chosen = _probabilities(judge, [p for p, _ in chosen], [t for _, t in chosen])
    judged_random = _probabilities(judge, [p for p, _ in random_pick], [t for _, t in random_pick])
    real_chosen = float((judged_chosen >= 0.5).float().mean())
    real_random = float((judged_random >= 0.5).float().mean())
    return {
        "prompts": len(chosen),
        "candidates_per_prompt": {task: max((len(by_prompt.get(prompt_for_judge(r), [])) for r in prompts
                                             if isinstance(r, kind)), default=0)
                                  for task, kind in (("cv", CVRecord), ("reply", PairRecord))},
        "judged_real_chosen": round(real_chosen, 4),
        "judged_real_random": round(real_random, 4),
        "difference": round(real_chosen - real_random, 4),
        "mean_judge_p_real_chosen": round(float(judged_chosen.mean()), 4),
        "mean_judge_p_real_random": round(float(judged_random.mean()), 4),
        "low_confidence_choices": low_confidence,
        "reply_mentions_subject": {"chosen": _share(c for c, _ in subjects), "random": _share(r for _, r in subjects),
                                   "replies": len(subjects)},
    }


def _share(flags: Any) -> float | None:
    values = list(flags)
    return round(sum(values) / len(values), 4) if values else None


def _pass_rate(logits: list[float], shift: float, threshold: float) -> float:
    probabilities = torch.sigmoid(torch.tensor(logits) + shift)
    return round(float((probabilities >= threshold).float().mean()), 4)


def _per_task(reranker: Reranker, held: PairExamples, logits: list[float]) -> dict[str, Any]:
    """Per task: the head's AUC; the share of real texts, of drafts, and of prompts with a draft over the
    live threshold."""
    threshold = reranker.policy.threshold
    out: dict[str, Any] = {}
    for task in ("cv", "reply"):
        rows = [(v, t, g) for v, t, g in zip(logits, held.targets, held.groups, strict=True)
                if g.startswith(f"{task}:")]
        real = [v for v, t, _ in rows if t == 1.0]
        fake = [v for v, t, _ in rows if t == 0.0]
        if not real or not fake:
            continue
        best: dict[str, float] = {}
        for v, t, g in rows:
            if t == 0.0:
                best[g] = max(best.get(g, v), v)
        shift = calibration_shift(reranker.realism.card, task)
        out[task] = {"auc": round(roc_auc([v for v, *_ in rows], [int(t) for _, t, _ in rows]), 4),
                     "real_pass_rate": _pass_rate(real, shift, threshold),
                     "draft_pass_rate": _pass_rate(fake, shift, threshold),
                     "prompts_with_a_passing_draft": _pass_rate(list(best.values()), shift, threshold),
                     "prompts": len(best), "threshold": threshold}
    return out


def evaluate_reranker(writer: Writer, reranker: Reranker, judge: PairScorer, corpus: Path, spec: RerankEvalSpec,
                      drafts_cache: Path | None = None, feedback: list[Feedback] | None = None,
                      progress: bool = True, engine: Engine | None = None) -> dict[str, Any]:
    """Every measure of the module docstring; drafts come from `engine` (the live one; None: PyTorch)."""
    test = load_split(corpus, "test")
    prompts = pick_prompts(test, spec.prompts_per_task, spec.seed)
    drafts = _drafts(writer, prompts, spec, drafts_cache, progress, engine)

    held_out = realism_examples(test, drafts)
    realism_logits = reranker.realism.logits(held_out.prompts, held_out.texts)
    realism_auc = roc_auc(realism_logits, [int(t) for t in held_out.targets])
    matched = bootstrap_examples(test, spec.seed)
    quality_auc = roc_auc(reranker.quality.logits(matched.prompts, matched.texts), [int(t) for t in matched.targets])

    lift = _lift(reranker, judge, prompts, drafts, spec)
    per_task = _per_task(reranker, held_out, realism_logits.tolist())
    report: dict[str, Any] = {
        "realism_auc": round(realism_auc, 4),
        "realism_examples": {"real": int(sum(held_out.targets)), "drafts": len(drafts)},
        "realism_per_task": per_task,
        "quality_auc": round(quality_auc, 4),
        "quality_examples": len(matched),
        "lift": lift,
        "judge": str(judge.path),
    }
    if feedback:
        predicted = reranker.quality.logits([f.request for f in feedback], [f.reply for f in feedback])
        report["quality_feedback_spearman"] = round(spearman(predicted, [f.rating for f in feedback]), 4)
    passes = {
        "realism_auc": report["realism_auc"] >= BARS["realism_auc"],
        "quality_auc": report["quality_auc"] >= BARS["quality_auc"],
        "lift": lift["difference"] >= BARS["lift"],
    }
    return {**report, "bars": BARS, "passes": passes, "passed": all(passes.values())}
