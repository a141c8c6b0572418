"""Choosing the draft to post: keep the realistic ones, then take the one colleagues should rate best.

`choose` is the policy, a pure function of the scores:
1. exact and near duplicates count once (the first of them is judged, the rest are marked);
2. drafts that are too short or too long are out;
3. drafts with P(real) below the threshold (0.9 by default, as in the reddit bot) are out;
4. of the rest, the highest expected quality wins; ties go to the more realistic, then the earlier;
5. if nothing is left, the most realistic sane draft is chosen and flagged as low confidence.

`Reranker` scores drafts with the two heads, sharing one encoder pass when both heads sit on the
same frozen encoder, and applies the policy.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from config.errors import InputError
from models.encoder import SentenceEncoder
from models.pair_head import PairScorer
from models.realism_data import sampling_mismatch
from models.writer import LiveSampling

log = logging.getLogger(__name__)

BUNDLED_REALISM = Path(__file__).parent / "bundled" / "realism-minilm"
BUNDLED_QUALITY = Path(__file__).parent / "bundled" / "quality-minilm"
BUNDLED_JUDGE = Path(__file__).parent / "bundled" / "judge-realism"  # only `eval rerank` uses it


@dataclass(frozen=True)
class RerankPolicy:
    threshold: float = 0.9
    min_chars: int = 40  # shorter than a sentence or two is not a reply, let alone a CV
    max_chars: int = 6000  # past this something has run on; a CV is about 2,000 characters
    near_duplicate: float = 0.8  # word-trigram Jaccard similarity at which two drafts count once


@dataclass(frozen=True)
class Scored:
    text: str
    p_real: float
    quality: float  # expected rating, 1 to 5
    chosen: bool
    reason: str


@dataclass(frozen=True)
class Ranked:
    text: str
    index: int
    low_confidence: bool
    candidates: tuple[Scored, ...]

    def table(self) -> str:
        """The candidates and their scores, for `--explain` and the bot's "Why this reply?"."""
        lines = ["  #  P(real)  quality  verdict", "  -  -------  -------  -------"]
        for i, c in enumerate(self.candidates, 1):
            mark = "*" if c.chosen else " "
            lines.append(f"{mark}{i:2d}  {c.p_real:7.3f}  {c.quality:7.2f}  {c.reason}")
        return "\n".join(lines)


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2))}


def near_duplicates(texts: list[str], similarity: float) -> dict[int, int]:
    """Index of each draft that repeats an earlier one -> index of the earlier one."""
    shingles = [_shingles(t) for t in texts]
    repeats: dict[int, int] = {}
    for j in range(len(texts)):
        for i in range(j):
            if i in repeats:
                continue
            union = shingles[i] | shingles[j]
            if union and len(shingles[i] & shingles[j]) / len(union) >= similarity:
                repeats[j] = i
                break
    return repeats


def choose(texts: list[str], p_real: list[float], quality: list[float], policy: RerankPolicy) -> Ranked:
    """Apply the policy to scored drafts; see the module docstring."""
    if not texts:
        raise InputError("there are no drafts to choose from")
    if not len(texts) == len(p_real) == len(quality):
        raise ValueError("texts, p_real and quality must have the same length")
    repeats = near_duplicates(texts, policy.near_duplicate)
    reasons: dict[int, str] = {j: f"duplicate of #{i + 1}" for j, i in repeats.items()}
    for i, text in enumerate(texts):
        if i in reasons:
            continue
        if len(text) < policy.min_chars:
            reasons[i] = f"too short ({len(text)} < {policy.min_chars} characters)"
        elif len(text) > policy.max_chars:
            reasons[i] = f"too long ({len(text)} > {policy.max_chars} characters)"
    sane = [i for i in range(len(texts)) if i not in reasons]
    kept = [i for i in sane if p_real[i] >= policy.threshold]
    for i in sane:
        if i not in kept:
            reasons[i] = f"P(real) {p_real[i]:.2f} < {policy.threshold:.2f}"
    low_confidence = not kept
    pool = kept or sane or list(range(len(texts)))
    if kept:
        best = max(pool, key=lambda i: (quality[i], p_real[i], -i))
        reasons[best] = f"chosen: best expected quality of {len(kept)} realistic"
        for i in kept:
            if i != best:
                reasons[i] = f"realistic, lower expected quality than #{best + 1}"
    else:
        best = max(pool, key=lambda i: (p_real[i], quality[i], -i))
        reasons[best] = "chosen with low confidence: the most realistic, though none passed the threshold"
    scored = tuple(Scored(t, round(p_real[i], 4), round(quality[i], 3), i == best, reasons[i])
                   for i, t in enumerate(texts))
    return Ranked(text=texts[best], index=best, low_confidence=low_confidence, candidates=scored)


class Reranker:
    """The realism and quality heads, ready to score drafts for one prompt."""

    def __init__(self, realism: PairScorer, quality: PairScorer, policy: RerankPolicy | None = None) -> None:
        self.realism, self.quality = realism, quality
        self.policy = policy or RerankPolicy()
        self.shared = (realism.encoder is quality.encoder and not realism.config.finetuned_encoder
                       and not quality.config.finetuned_encoder and realism.config.layers == quality.config.layers
                       and realism.config.max_length == quality.config.max_length)

    @classmethod
    def load(cls, realism: Path | str | None = None, quality: Path | str | None = None,
             encoder: str = "all-MiniLM-L6-v2", device: str = "auto", policy: RerankPolicy | None = None) -> Reranker:
        """Both heads on one encoder; None means the bundled heads."""
        shared = SentenceEncoder.load(encoder, device)
        return cls(PairScorer.load(realism or BUNDLED_REALISM, shared, "realism", device),
                   PairScorer.load(quality or BUNDLED_QUALITY, shared, "quality", device), policy)

    def check_sampling(self, live: LiveSampling) -> list[str]:
        """Warn (once per call) if the writer samples differently from the fakes the discriminator saw."""
        problems = sampling_mismatch(self.realism.card.get("sampling"), live)
        if problems:
            log.warning("the live sampling settings differ from those the realism discriminator was trained "
                        "on, so its P(real) may be off: %s", "; ".join(problems))
        return problems

    def scores(self, prompt: str, texts: list[str]) -> tuple[list[float], list[float]]:
        """P(real) and expected rating (1-5) of each draft of one prompt, in one batch."""
        return self.scores_for([prompt] * len(texts), texts)

    def scores_for(self, prompts: list[str], texts: list[str]) -> tuple[list[float], list[float]]:
        """P(real) and expected rating (1-5) of (prompt, draft) rows, in one batch per head."""
        if self.shared:
            features = self.realism.features(prompts, texts)
            real_logits = self.realism.logits_from_features(features)
            quality_logits = self.quality.logits_from_features(features)
        else:
            real_logits, quality_logits = self.realism.logits(prompts, texts), self.quality.logits(prompts, texts)
        return torch.sigmoid(real_logits).tolist(), (1.0 + 4.0 * torch.sigmoid(quality_logits)).tolist()

    def rerank(self, prompt: str, texts: list[str]) -> Ranked:
        return self.rerank_many([(prompt, texts)])[0]

    def rerank_many(self, groups: list[tuple[str, list[str]]]) -> list[Ranked]:
        """Rerank the drafts of several prompts, scoring all of them in one batch."""
        prompts = [prompt for prompt, texts in groups for _ in texts]
        texts = [text for _, group in groups for text in group]
        p_real, quality = self.scores_for(prompts, texts)
        ranked, start = [], 0
        for _, group in groups:
            end = start + len(group)
            ranked.append(choose(group, p_real[start:end], quality[start:end], self.policy))
            start = end
        return ranked
