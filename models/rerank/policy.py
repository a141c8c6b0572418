"""Choosing the draft to post: keep the realistic ones, then take the one colleagues should rate best.

`choose` is the policy, a pure function of the scores:
1. exact and near duplicates count once (the first of them is judged, the rest are marked);
2. drafts that are too short or too long are out, and so is a CV missing one of its sections;
3. drafts with P(real) below the threshold (0.9 by default, as in the reddit bot) are out;
4. of the rest, the highest expected quality wins; ties go to the more realistic, then the earlier;
5. if nothing is left, the most realistic sane draft is chosen and flagged as low confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from contracts.cv import parse_cv
from contracts.errors import InputError
from contracts.scores import CandidateScore, scores_table


@dataclass(frozen=True)
class RerankPolicy:
    threshold: float = 0.9
    min_chars: int = 40  # shorter than a sentence or two is not a reply, let alone a CV
    max_chars: int = 6000  # past this something has run on; a CV is about 2,000 characters
    near_duplicate: float = 0.8  # word-trigram Jaccard similarity at which two drafts count once


@dataclass(frozen=True)
class Ranked:
    text: str
    index: int
    low_confidence: bool
    candidates: tuple[CandidateScore, ...]

    def table(self) -> str:
        """The candidates and their scores, for `--explain`."""
        return scores_table(self.candidates)


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


def choose(texts: list[str], p_real: list[float], quality: list[float], policy: RerankPolicy,
           task: str | None = None) -> Ranked:
    """Apply the policy to scored drafts (of CVs when `task` is "cv"); see the module docstring."""
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
        elif task == "cv" and parse_cv(text) is None:
            reasons[i] = "not a whole CV (a section is missing or too thin)"
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
    scored = tuple(CandidateScore(text=t, p_real=round(p_real[i], 4), quality=round(quality[i], 3),
                                  chosen=i == best, reason=reasons[i]) for i, t in enumerate(texts))
    return Ranked(text=texts[best], index=best, low_confidence=low_confidence, candidates=scored)
