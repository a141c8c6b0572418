"""The rounds' pass rate: measured against a threshold the real texts set, never one drafts could lower."""

from __future__ import annotations

from implementor.training.adversarial.steps import pass_rate_per_task
from implementor.training.rerank.examples import PairExamples


def scores_as_written(examples: PairExamples) -> list[float]:
    """A judge's logit for each text is the number written in it: the threshold logic alone is tested."""
    return [float(t) for t in examples.texts]


def examples(rows: list[tuple[str, float, float]]) -> PairExamples:
    return PairExamples(["p"] * len(rows), [str(x) for _, _, x in rows], [t for _, t, _ in rows],
                        [g for g, _, _ in rows])


def test_a_prompt_passes_when_its_best_draft_clears_what_real_texts_score() -> None:
    real = [(f"cv:real{i}", 1.0, float(i)) for i in range(10)]  # 0..9: rejecting 10% puts the threshold at 1
    drafts = [("cv:a", 0.0, 0.5), ("cv:a", 0.0, 1.5),  # its best draft clears 1
              ("cv:b", 0.0, 0.2), ("cv:b", 0.0, 0.9),  # neither does
              ("reply:c", 0.0, 5.0)]  # no real replies: no reply threshold, no reply rate
    held = examples(real + drafts)
    rates = pass_rate_per_task(scores_as_written(held), held)
    assert rates == {"cv": 0.5}


def test_a_threshold_that_rejects_more_real_texts_passes_fewer_drafts() -> None:
    real = [(f"reply:r{i}", 1.0, float(i)) for i in range(10)]
    drafts = examples(real + [(f"reply:d{i}", 0.0, float(i) + 0.5) for i in range(10)])
    half = pass_rate_per_task(scores_as_written(drafts), drafts, false_rejection=0.5)
    tenth = pass_rate_per_task(scores_as_written(drafts), drafts, false_rejection=0.1)
    assert half["reply"] == 0.5 and tenth["reply"] == 0.9
