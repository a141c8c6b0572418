from __future__ import annotations

import math
from pathlib import Path

import torch

from implementor.models.writer.model import Writer
from implementor.training.writer.eval import (
    TextEvalSpec,
    distinctness,
    evaluate_writer,
    invented_word_rate,
    mentions_subject,
    novelty,
    unigram_cross_entropy,
)


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


def test_the_evaluation_reports_every_measure(tiny_writer_dir: Path, mini_corpus: Path, minilm) -> None:  # type: ignore[no-untyped-def]
    writer = Writer.load(tiny_writer_dir, "cpu")
    spec = TextEvalSpec(cv_prompts=2, cv_candidates=2, reply_prompts=2, reply_candidates=3)
    report = evaluate_writer(writer, mini_corpus, spec, progress=False, encoder=minilm)
    assert report["cvs_generated"] == 4 and report["replies_generated"] <= 6
    ppl = report["perplexity"]
    assert ppl["model"] < ppl["unigram"]  # even two epochs of a micro model beat token counts
    assert 0.0 <= report["cv_parse_rate"] <= 1.0 and 0.0 <= report["novelty_8gram"] <= 1.0
    assert set(report["passes"]) == {"perplexity_ratio", "cv_parse_rate", "subject_mention_rate"}
    assert len(report["examples"]["replies"]) == 2
    assert 0.0 <= report["repeated_skill_rate"] <= 1.0 and report["skills_fit"]["cvs"] == 4
    assert report["engine"] == "torch"
    assert set(report["invented_word_rate"]) == {"cv", "reply", "real_cv", "real_reply"}
    assert report["invented_word_rate"]["real_cv"] < 0.05  # real text invents little


def test_perplexity_can_be_skipped_and_is_then_no_bar(tiny_writer_dir: Path, mini_corpus: Path, minilm) -> None:  # type: ignore[no-untyped-def]
    writer = Writer.load(tiny_writer_dir, "cpu")
    spec = TextEvalSpec(cv_prompts=1, cv_candidates=1, reply_prompts=1, reply_candidates=1, perplexity=False)
    report = evaluate_writer(writer, mini_corpus, spec, progress=False, encoder=minilm)
    assert "skipped" in report["perplexity"]
    assert set(report["passes"]) == {"cv_parse_rate", "subject_mention_rate"}


def test_repeated_skills_are_counted_per_cv() -> None:
    from implementor.training.writer.character import repeated_bullet_rate

    looping = "## Skills\n- create digital images\n- Create  digital images\n- edit video"
    clean = "## Skills\n- create digital images\n- edit video\n- write copy"
    assert repeated_bullet_rate([looping, clean, clean, clean]) == 0.25


def test_skills_fit_is_one_for_real_cvs_and_near_zero_for_other_titles(mini_corpus: Path, minilm) -> None:  # type: ignore[no-untyped-def]
    from implementor.contracts.records import CVRecord
    from implementor.training.corpus.splits import load_split
    from implementor.training.writer.character import skills_fit

    real = [r for r in load_split(mini_corpus, "train") if isinstance(r, CVRecord)]
    firsts = {}
    for record in real:
        firsts.setdefault(record.title, record)
    own = [(r.title, r.body) for r in firsts.values()]
    assert skills_fit(minilm, real, own)["normalised"] == 1.0  # the real CVs themselves
    shifted = [(t, b) for (t, _), (_, b) in zip(own, own[1:] + own[:1], strict=True)]
    assert skills_fit(minilm, real, shifted)["normalised"] < 0.3  # another title's skills


def test_persona_consistency_prefers_the_colleagues_own_trade(mini_corpus: Path, minilm) -> None:  # type: ignore[no-untyped-def]
    from implementor.contracts.persona import Persona
    from implementor.contracts.records import CVRecord, PairRecord
    from implementor.training.corpus.splits import load_split
    from implementor.training.writer.character import persona_consistency

    cvs = [r for r in load_split(mini_corpus, "train") if isinstance(r, CVRecord)][:12]
    replies = [(PairRecord(request="Can you help?", reply="-", persona=Persona(name="A", title=c.title)),
                f"As a {c.title.lower()} I often {c.body.split('## Skills')[1][3:60]}.") for c in cvs]
    assert persona_consistency(minilm, replies, cvs)["rate"] >= 0.8


def test_invented_words_are_those_no_dictionary_prompt_or_corpus_knows() -> None:
    texts = [("Yara Kamp, Doll Maker", "Yara Kamp makes dolls and crespinators for the dayout trade.")]
    assert invented_word_rate(texts, known=set()) == 2 / 10  # "crespinators" and "dayout"; the name is in the prompt
    assert invented_word_rate(texts, known={"dayout"}) == 1 / 10  # a trade word the corpus uses is not invented
    assert invented_word_rate([("", "Every word here is English.")], known=set()) == 0.0
