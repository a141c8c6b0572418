"""Choosing the draft to post: keep the realistic ones, then take the one colleagues should rate best.

`choose` is the policy, a pure function of the scores:
1. exact and near duplicates count once (the first of them is judged, the rest are marked);
2. drafts that are too short or too long are out, and so is a CV missing one of its sections;
3. drafts with P(real) below the threshold (0.9 by default, as in the reddit bot) are out;
4. of the rest, the highest expected quality wins; ties go to the more realistic, then the earlier;
5. if nothing is left, the most realistic sane draft is chosen and flagged as low confidence.

Exploration (replies only, `explore`, 0.1 in production): with that probability another realistic
draft, drawn uniformly, is posted instead of the top one, so that members' ratings also reach drafts
the quality head did not favour (nostalgebraist-autoresponder's selector does the same). Every draft
carries its propensity, the probability that this policy posts it (1 - explore for the top one,
explore / (k - 1) for each of the k - 1 other realistic ones, 0 for the rest), which retraining uses
to weight the ratings back (implementor/learning/retrain.py). CVs never explore: their ratings teach nothing yet.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from implementor.contracts.cv import parse_cv
from implementor.contracts.errors import InputError
from implementor.contracts.scores import CandidateScore, scores_table


@dataclass(frozen=True)
class RerankPolicy:
    threshold: float = 0.9
    min_chars: int = 40  # shorter than a sentence or two is not a reply, let alone a CV
    max_chars: int = 6000  # past this something has run on; a CV is about 2,000 characters
    near_duplicate: float = 0.8  # word-trigram Jaccard similarity at which two drafts count once
    explore: float = 0.0  # share of replies for which another realistic draft is posted (module docstring)


@dataclass(frozen=True)
class Ranked:
    text: str
    index: int
    low_confidence: bool
    candidates: tuple[CandidateScore, ...]
    explored: bool = False  # posted by exploration, not because it was the top draft

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


def _among_realistic(kept: list[int], p_real: list[float], quality: list[float], explore: float,
                     rng: Callable[[], float], reasons: dict[int, str], propensity: list[float]) -> tuple[int, bool]:
    """The top realistic draft, or with probability `explore` another realistic one; fills in each
    one's verdict and propensity. Returns (the posted draft, whether it was explored)."""
    top = max(kept, key=lambda i: (quality[i], p_real[i], -i))
    others = [i for i in kept if i != top]
    propensity[top] = 1.0 - explore
    for i in others:
        propensity[i] = explore / len(others)
        reasons[i] = f"realistic, lower expected quality than #{top + 1}"
    reasons[top] = f"chosen: best expected quality of {len(kept)} realistic"
    if not (explore and rng() < explore):
        return top, False
    explored = others[min(len(others) - 1, int(rng() * len(others)))]
    reasons[top] = "realistic, the best expected quality; not posted this time (exploring)"
    reasons[explored] = f"chosen to explore: realistic, though #{top + 1} was expected to rate higher"
    return explored, True


def choose(texts: list[str], p_real: list[float], quality: list[float], policy: RerankPolicy,
           task: str | None = None, rng: Callable[[], float] = random.random) -> Ranked:
    """Apply the policy to scored drafts (of CVs when `task` is "cv"); see the module docstring.

    `rng` draws the exploration (uniform on [0, 1)); tests pass their own.
    """
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
    propensity = [0.0] * len(texts)
    explored = False
    if kept:
        explore = policy.explore if len(kept) > 1 and task != "cv" else 0.0
        best, explored = _among_realistic(kept, p_real, quality, explore, rng, reasons, propensity)
    else:
        best = max(pool, key=lambda i: (p_real[i], quality[i], -i))
        propensity[best] = 1.0
        reasons[best] = "chosen with low confidence: the most realistic, though none passed the threshold"
    scored = tuple(CandidateScore(text=t, p_real=round(p_real[i], 4), quality=round(quality[i], 3),
                                  chosen=i == best, reason=reasons[i], propensity=round(propensity[i], 4))
                   for i, t in enumerate(texts))
    return Ranked(text=texts[best], index=best, low_confidence=low_confidence, candidates=scored, explored=explored)
