from __future__ import annotations

import math
from pathlib import Path

import torch

from models.writer.eval import (
    TextEvalSpec,
    distinctness,
    evaluate_writer,
    mentions_subject,
    novelty,
    unigram_cross_entropy,
)
from models.writer.model import Writer


def test_unigram_cross_entropy_is_add_one_smoothed_frequency() -> None:
    # counts with add-one over a vocabulary of 3: token 0 -> 3, token 1 -> 2, token 2 -> 1 (of 6)
    nll = unigram_cross_entropy([[0, 0, 1]], torch.tensor([[0, 2]]), vocab=3)
    assert math.isclose(nll, -(math.log(3 / 6) + math.log(1 / 6)) / 2)


def test_subject_mentions_need_most_content_words() -> None:
    subject = "plan marketing strategy"
    assert mentions_subject("I would plan the marketing work first.", subject)
    assert not mentions_subject("I would start with the budget.", subject)


def test_distinctness_and_novelty() -> None:
    same = distinctness(["one two three", "one two three"])
    assert same["unique_share"] == 0.5 and same["distinct_2"] == 0.5
    assert distinctness(["a b c", "d e f"])["distinct_2"] == 1.0
    training = ["one two three four five six seven eight nine"]
    assert novelty(["one two three four five six seven eight"], training) == 0.0
    assert novelty(["eight seven six five four three two one"], training) == 1.0


def test_the_evaluation_reports_every_measure(tiny_writer_dir: Path, mini_corpus: Path) -> None:
    writer = Writer.load(tiny_writer_dir, "cpu")
    spec = TextEvalSpec(cv_prompts=2, cv_candidates=2, reply_prompts=2, reply_candidates=3)
    report = evaluate_writer(writer, mini_corpus, spec, progress=False)
    assert report["cvs_generated"] == 4 and report["replies_generated"] <= 6
    ppl = report["perplexity"]
    assert ppl["model"] < ppl["unigram"]  # even two epochs of a micro model beat token counts
    assert 0.0 <= report["cv_parse_rate"] <= 1.0 and 0.0 <= report["novelty_8gram"] <= 1.0
    assert set(report["passes"]) == {"perplexity_ratio", "cv_parse_rate", "subject_mention_rate"}
    assert len(report["examples"]["replies"]) == 2
