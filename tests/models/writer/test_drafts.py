from __future__ import annotations

import datetime
import logging
from pathlib import Path

import pytest

from implementor.contracts.errors import InputError
from implementor.models.writer.drafts import (
    MAX_PROMPT_CHARS,
    clean,
    draft_cv,
    draft_replies,
    generate_candidates,
    neutralise_mentions,
    trim_to_sentence,
)
from implementor.models.writer.model import SamplingSettings, Writer
from implementor.models.writer.prompts import reply_prompt

REQUEST = "Hi all, we need someone to plan a marketing strategy for the launch at Fairweather Ltd."


@pytest.fixture(scope="module")
def writer(tiny_writer_dir: Path) -> Writer:
    return Writer.load(tiny_writer_dir, "cpu")






def test_candidates_are_distinct_clean_and_reproducible(writer: Writer) -> None:
    # The machinery alone: the tiny model's noise would not pass a reply's rules (tested below).
    def drafts(seed: int) -> list[str]:
        return generate_candidates(writer, reply_prompt(REQUEST), 5, writer.sampling.reply, seed)

    first = drafts(3)
    assert len(first) == 5 and len(set(first)) == 5
    assert all(d == d.strip() and d for d in first)
    assert drafts(3) == first
    assert drafts(4) != first


def test_cv_drafts_use_the_cv_settings(writer: Writer) -> None:
    drafts = draft_cv(writer, "Ada Lovelace", "Data Scientist", n=2, seed=0,
                      settings=SamplingSettings(max_new_tokens=40))
    assert len(drafts) == 2


def test_generated_text_never_carries_mentions(writer: Writer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the model writes, mention syntax does not survive into a candidate."""
    real_decode = writer.tokenizer.decode

    def decode_with_mentions(ids, **kwargs):  # type: ignore[no-untyped-def]
        return "@everyone <@123456> look @here <@!42> <@&7> <#99>. " + real_decode(ids, **kwargs)

    monkeypatch.setattr(writer.tokenizer, "decode", decode_with_mentions)
    for draft in draft_replies(writer, REQUEST, n=3, seed=0):
        assert "@everyone" not in draft and "@here" not in draft
        assert "<@" not in draft and "<#" not in draft


def test_neutralise_mentions_keeps_ordinary_text() -> None:
    assert neutralise_mentions("ping @everyone and @ here, mail ada@example.com") == \
        "ping everyone and here, mail ada@example.com"
    assert neutralise_mentions("thanks <@123> and <@!9>") == "thanks  and "


def test_drafts_that_ran_out_end_on_a_sentence() -> None:
    assert trim_to_sentence("First one. Second one is cut") == "First one."
    assert trim_to_sentence("- BSc in Art (2010)\n- MSc in") == "- BSc in Art (2010)"
    assert clean("Done. And a half", finished=True) == "Done. And a half"
    assert clean("Done. And a half", finished=False) == "Done."


def test_long_prompts_are_cut_from_the_left(writer: Writer, caplog: pytest.LogCaptureFixture) -> None:
    long_request = "please help " * 400
    with caplog.at_level(logging.WARNING):
        drafts = draft_replies(writer, long_request + "with the budget", n=2, seed=0,
                               settings=SamplingSettings(max_new_tokens=16))
    assert drafts
    assert "keeping its last" in caplog.text


@pytest.mark.parametrize("bad", ["", "   \n\t "])
def test_empty_prompts_are_refused(writer: Writer, bad: str) -> None:
    with pytest.raises(InputError, match="empty"):
        draft_replies(writer, bad)
    with pytest.raises(InputError, match="empty"):
        draft_cv(writer, bad, "Analyst")


def test_absurd_inputs_are_refused(writer: Writer) -> None:
    with pytest.raises(InputError, match="characters"):
        draft_replies(writer, "x" * (MAX_PROMPT_CHARS + 1))
    with pytest.raises(InputError, match="n must be"):
        generate_candidates(writer, reply_prompt(REQUEST), 0, SamplingSettings())
    with pytest.raises(InputError, match="no room"):
        generate_candidates(writer, reply_prompt(REQUEST), 1, SamplingSettings(max_new_tokens=writer.context))






class _Scripted:
    """An engine that writes the given texts in turn, one per draft: what a round returns, without a model."""

    name = "scripted"

    def __init__(self, writer: Writer, texts: list[str]) -> None:
        self.writer, self.texts, self.calls = writer, list(texts), 0

    def sample(self, prompts: list[list[int]], n: int, settings: SamplingSettings, seed: int | None,
               min_new_tokens: int = 0, stop: object = None, progress: object = None
               ) -> list[tuple[list[list[int]], list[bool]]]:
        self.calls += 1
        rows = [[self.writer.tokenizer(self.texts.pop(0))["input_ids"] for _ in range(n)] for _ in prompts]
        return [(r, [True] * n) for r in rows]


def test_drafts_the_contract_refuses_are_dropped_and_drafted_again(writer: Writer) -> None:
    from implementor.contracts.cv import parse_cv
    from implementor.models.writer.drafts import Rules, generate_many

    whole = "## Profile\nI test.\n## Skills\n- a\n- b\n- c\n## Experience\n- Tester, 2019-2024\n## Education\n- BSc"
    broken = "## Profile\nI test.\n## Profile\nAgain."
    engine = _Scripted(writer, [broken, broken + " x", whole])  # round 1: two refused; round 2 keeps one
    rules = Rules(accept=lambda text: parse_cv(text) is not None)
    [drafts] = generate_many(writer, ["cv"], 1, SamplingSettings(), seed=1, engine=engine, rules=rules)
    assert drafts == [whole] and engine.calls == 3
    never = _Scripted(writer, [broken + f" {i}" for i in range(8)])
    [fallback] = generate_many(writer, ["cv"], 2, SamplingSettings(), seed=1, engine=never, rules=rules,
                               max_rounds=3)
    assert len(fallback) == 2 and all(parse_cv(t) is None for t in fallback)  # said so by the reranker, not lost


def test_drafts_pruned_by_the_engine_are_not_drafted_again(writer: Writer) -> None:
    """With a prune, `keep` drafts a prompt are enough: the rows the engine ended early (empty) are not
    asked for again in a second round; without one, every draft is kept."""
    from implementor.models.writer.drafts import generate_many
    from implementor.models.writer.sampling import Prune

    class _Pruning(_Scripted):
        def sample(self, prompts: list[list[int]], n: int, settings: SamplingSettings, seed: int | None,
                   min_new_tokens: int = 0, stop: object = None, progress: object = None
                   ) -> list[tuple[list[list[int]], list[bool]]]:
            kept = 2 if stop is not None and getattr(stop, "prune", None) is not None else n
            out = super().sample(prompts, n, settings, seed, min_new_tokens, stop, progress)
            return [([row if i < kept else [] for i, row in enumerate(rows)], ended) for rows, ended in out]

    prune = Prune(ready=lambda _: True, score=lambda _, texts: [0.0] * len(texts), keep=2)
    engine = _Pruning(writer, [f"Draft number {i}." for i in range(12)])
    [drafts] = generate_many(writer, ["cv"], 4, SamplingSettings(), seed=1, engine=engine, prune=prune)
    assert drafts == ["Draft number 0.", "Draft number 1."] and engine.calls == 1
    plain = _Pruning(writer, [f"Draft number {i}." for i in range(12)])
    assert len(generate_many(writer, ["cv"], 4, SamplingSettings(), seed=1, engine=plain)[0]) == 4


ADA_CV = ("## Profile\nI have planned events for 9 years.\n\n## Skills\n- plan events\n- budget\n- negotiate\n\n"
          "## Experience\n- Senior Planner, Acme Events (2019-present). Ran trade fairs for large venues.\n"
          "- Planner, Bolt and Sons (2017-2019). Booked halls.\n\n"
          "## Education\n- BA in Events, University of Leeds (2016)")


def test_a_reply_names_nothing_that_neither_its_colleagues_cv_nor_the_request_gives(writer: Writer) -> None:
    from implementor.contracts.persona import Persona

    ada = Persona.from_cv("Ada Byron", "Event Planner", ADA_CV)
    invented = "Happy to help. At Koninklijke van Beek I ran a launch in 2012."
    grounded = "Happy to help. At Acme Events I ran fairs since 2019, and Fairweather Ltd would get the same care."
    engine = _Scripted(writer, [invented, grounded])
    assert draft_replies(writer, REQUEST, n=1, seed=0, persona=ada, engine=engine) == [grounded]
    # Whatever is drafted, nothing invented is posted: a reply no draft of which passes loses those sentences.
    days = ("Monday", "Tuesday", "Thursday", "Friday")
    never = _Scripted(writer, [invented + f" I can start on {day}." for day in days])
    repaired = draft_replies(writer, REQUEST, n=1, seed=0, persona=ada, engine=never)
    assert repaired and all("Beek" not in text and "2012" not in text and text.startswith("Happy to help.")
                            for text in repaired)


def test_a_cv_draft_is_mended_where_an_editor_would_and_refused_where_its_roles_overlap(writer: Writer) -> None:
    from implementor.contracts.cv_facts import problems
    from implementor.models.writer.drafts import CV_RULES, generate_many

    stated = ADA_CV.replace("for 9 years", "for 25 years").replace("Booked halls.", "Ran trade fairs for large venues.")
    overlapping = ADA_CV.replace("(2017-2019)", "(2017-2022)")
    engine = _Scripted(writer, [overlapping, stated])
    [drafts] = generate_many(writer, ["cv"], 1, SamplingSettings(), seed=1, engine=engine, rules=CV_RULES)
    year = datetime.date.today().year
    assert len(drafts) == 1 and f"for {year - 2017} years" in drafts[0] and drafts[0].count("Ran trade fairs") == 1
    assert problems(drafts[0], year) == []
