"""The rounds' pass rate: measured against a threshold the real texts set, never one drafts could lower."""

from __future__ import annotations

import torch

from models.adversarial.steps import pass_rate_per_task
from models.rerank.examples import PairExamples


class ScoresAsWritten:
    """A scorer whose logit for a text is the number written in it: the threshold logic alone is tested."""

    def logits(self, prompts: list[str], texts: list[str]) -> torch.Tensor:
        return torch.tensor([float(t) for t in texts])


def examples(rows: list[tuple[str, float, float]]) -> PairExamples:
    return PairExamples(["p"] * len(rows), [str(x) for _, _, x in rows], [t for _, t, _ in rows],
                        [g for g, _, _ in rows])


def test_a_prompt_passes_when_its_best_draft_clears_what_real_texts_score() -> None:
    real = [(f"cv:real{i}", 1.0, float(i)) for i in range(10)]  # 0..9: rejecting 10% puts the threshold at 1
    drafts = [("cv:a", 0.0, 0.5), ("cv:a", 0.0, 1.5),  # its best draft clears 1
              ("cv:b", 0.0, 0.2), ("cv:b", 0.0, 0.9),  # neither does
              ("reply:c", 0.0, 5.0)]  # no real replies: no reply threshold, no reply rate
    rates = pass_rate_per_task(ScoresAsWritten(), examples(real + drafts))  # type: ignore[arg-type]
    assert rates == {"cv": 0.5}


def test_a_threshold_that_rejects_more_real_texts_passes_fewer_drafts() -> None:
    real = [(f"reply:r{i}", 1.0, float(i)) for i in range(10)]
    drafts = examples(real + [(f"reply:d{i}", 0.0, float(i) + 0.5) for i in range(10)])
    scorer = ScoresAsWritten()
    half = pass_rate_per_task(scorer, drafts, false_rejection=0.5)  # type: ignore[arg-type]
    tenth = pass_rate_per_task(scorer, drafts, false_rejection=0.1)  # type: ignore[arg-type]
    assert half["reply"] == 0.5 and tenth["reply"] == 0.9
