"""Examples for the pair-scoring heads: (prompt, text, target) rows, grouped by prompt.

Both heads learn from `PairExamples`; the realism and quality data modules fill them from corpus
records, drafts and ratings. A record becomes a pair as the heads read it: the prompt half is a CV's
"name, title" or a request, the text half the CV body or the reply (no control tokens, no persona).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from implementor.contracts.records import CVRecord, Record
from implementor.models.writer.prompts import judge_prompt_cv


def prompt_for_judge(record: Record) -> str:
    """What the BERT heads read as the prompt half of the pair."""
    return judge_prompt_cv(record.name, record.title) if isinstance(record, CVRecord) else record.request


def text_of(record: Record) -> str:
    return record.body if isinstance(record, CVRecord) else record.reply


def group_of(record: Record) -> str:
    return f"cv:{record.name}:{record.title}" if isinstance(record, CVRecord) else f"reply:{record.request}"


@dataclass
class PairExamples:
    prompts: list[str]
    texts: list[str]
    targets: list[float]
    groups: list[str]  # examples of one prompt share a group and land on the same side of the split
    weights: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.weights:
            self.weights = [1.0] * len(self.targets)
        if not len(self.prompts) == len(self.texts) == len(self.targets) == len(self.groups) == len(self.weights):
            raise ValueError("prompts, texts, targets, groups and weights must have the same length")

    def __len__(self) -> int:
        return len(self.targets)

    def __add__(self, other: PairExamples) -> PairExamples:
        return PairExamples(self.prompts + other.prompts, self.texts + other.texts, self.targets + other.targets,
                            self.groups + other.groups, self.weights + other.weights)

    def subset(self, index: list[int]) -> PairExamples:
        return PairExamples([self.prompts[i] for i in index], [self.texts[i] for i in index],
                            [self.targets[i] for i in index], [self.groups[i] for i in index],
                            [self.weights[i] for i in index])


def split_by_group(examples: PairExamples, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    groups = sorted(set(examples.groups))
    random.Random(seed).shuffle(groups)
    held = set(groups[: max(1, round(len(groups) * fraction))])
    train = [i for i, g in enumerate(examples.groups) if g not in held]
    return train, [i for i, g in enumerate(examples.groups) if g in held]
