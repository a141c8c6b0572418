from __future__ import annotations

from pathlib import Path

import pytest

from implementor.contracts.errors import DataError
from implementor.training.corpus.splits import load_split
from implementor.training.rerank.quality_data import bootstrap_examples, feedback_examples, load_feedback


def test_feedback_loads_and_scales_ratings(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    path.write_text('{"request": "Help with a tender?", "reply": "Yes, I can.", "rating": 5}\n\n'
                    '{"request": "Help with a tender?", "reply": "No idea.", "rating": 1, "who": "123"}\n'
                    '{"request": "Audit?", "reply": "Happy to.", "rating": 3}\n')
    feedback = load_feedback(path)
    assert [f.target for f in feedback] == [1.0, 0.0, 0.5]
    examples = feedback_examples(feedback, weight=5.0)
    assert examples.weights == [5.0] * 3 and examples.groups[0] == examples.groups[1]


def test_bad_feedback_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    path.write_text('{"request": "a", "reply": "b", "rating": 7}\n{"request": "a"}\nnot json\n')
    with pytest.raises(DataError, match=r"3 bad lines: line 1: rating 7.0 is not between 1 and 5; line 2"):
        load_feedback(path)
    with pytest.raises(DataError, match="does not exist"):
        load_feedback(tmp_path / "missing.jsonl")


def test_quality_bootstrap_pairs_each_prompt_with_a_match_and_a_mismatch(mini_corpus: Path) -> None:
    records = load_split(mini_corpus, "train")[:30]
    examples = bootstrap_examples(records, seed=0)
    assert len(examples) == 60 and sum(examples.targets) == 30
    for i in range(0, 60, 2):
        assert examples.groups[i] == examples.groups[i + 1]
        assert examples.texts[i] != examples.texts[i + 1]
