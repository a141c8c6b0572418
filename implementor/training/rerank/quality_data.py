"""Data for the quality model: colleagues' ratings when there are some, a proxy task until then.

Feedback is JSONL of (request, reply, rating), which the bot exports from members' ratings: a
rating is 1 to 5 (the bot records a thumbs up as 5 and a thumbs down as 1). It is scaled to [0, 1]
and the model predicts it; the expected rating on the 1-5 scale is 1 + 4 * sigmoid(logit).

Without feedback, the model bootstraps on the question every good reply answers first: is this a
reply to *this* request? Positives are the corpus's matched pairs (and CVs with their own name and
title); negatives are replies to other requests, CVs for other titles, and off-topic text: a CV's
profile offered as a reply, or a writer draft for another prompt.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from implementor.contracts.cv import cv_sections
from implementor.contracts.errors import DataError
from implementor.contracts.records import CVRecord, PairRecord, Record
from implementor.training.rerank.examples import PairExamples, group_of, prompt_for_judge, text_of


@dataclass(frozen=True)
class Feedback:
    request: str
    reply: str
    rating: float  # 1..5

    @property
    def target(self) -> float:
        """The rating on [0, 1]."""
        return (self.rating - 1.0) / 4.0


def load_feedback(path: Path) -> list[Feedback]:
    """Read exported ratings; every bad line is reported with its number."""
    if not path.exists():
        raise DataError(f"feedback file {path} does not exist (export it with `implementor feedback export`)")
    out, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rating = float(row["rating"])
            if not 1.0 <= rating <= 5.0:
                raise ValueError(f"rating {rating} is not between 1 and 5")
            if not str(row["request"]).strip() or not str(row["reply"]).strip():
                raise ValueError("empty request or reply")
            out.append(Feedback(str(row["request"]), str(row["reply"]), rating))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            problems.append(f"line {number}: {exc}")
    if problems:
        raise DataError(f"{path} has {len(problems)} bad lines: " + "; ".join(problems[:3]))
    if not out:
        raise DataError(f"{path} holds no ratings")
    return out


def feedback_examples(feedback: list[Feedback], weight: float) -> PairExamples:
    return PairExamples([f.request for f in feedback], [f.reply for f in feedback], [f.target for f in feedback],
                        [f"feedback:{f.request}" for f in feedback], [weight] * len(feedback))


def bootstrap_examples(records: list[Record], seed: int, drafts: list[dict[str, str]] | None = None) -> PairExamples:
    """One matched example per record and one mismatched one, alternating the kind of mismatch."""
    rng = random.Random(seed)
    cvs = [r for r in records if isinstance(r, CVRecord)]
    pairs = [r for r in records if isinstance(r, PairRecord)]
    if len(cvs) < 2 or len(pairs) < 2:
        raise DataError("the quality bootstrap needs at least two CVs and two request/reply pairs")
    profiles = [cv_sections(c.body).get("Profile", c.body) for c in cvs]
    prompts, texts, targets, groups = [], [], [], []
    for i, record in enumerate(records):
        same_kind: list[Record] = list(cvs) if isinstance(record, CVRecord) else list(pairs)
        other = same_kind[rng.randrange(len(same_kind))]
        while other is record:
            other = same_kind[rng.randrange(len(same_kind))]
        mismatched = text_of(other)
        if isinstance(record, PairRecord) and i % 3 == 1:
            mismatched = profiles[rng.randrange(len(profiles))]  # off-topic: not a reply at all
        elif drafts and i % 3 == 2:
            draft = drafts[rng.randrange(len(drafts))]  # off-topic: a writer draft for another prompt
            if draft["group"] != group_of(record):
                mismatched = draft["text"]
        prompt = prompt_for_judge(record)
        prompts += [prompt, prompt]
        texts += [text_of(record), mismatched]
        targets += [1.0, 0.0]
        groups += [group_of(record)] * 2
    return PairExamples(prompts, texts, targets, groups)
