from __future__ import annotations

import pytest

from implementor.training.corpus.language import (
    first_sentence,
    imperative_to_past,
    lower_first,
    occupation_in_first_person,
    past_tense,
    title_case,
)


@pytest.mark.parametrize(
    "verb,past",
    [("develop", "developed"), ("manage", "managed"), ("plan", "planned"), ("apply", "applied"),
     ("build", "built"), ("oversee", "oversaw"), ("Teach", "Taught"), ("survey", "surveyed")],
)
def test_past_tense(verb: str, past: str) -> None:
    assert past_tense(verb) == past


def test_imperative_descriptions_become_past_achievements() -> None:
    assert imperative_to_past("Clean and maintain stalls. Then rest.") == "Cleaned and maintained stalls."
    assert imperative_to_past("Assess, manage, and report cases.") == "Assessed, managed, and reported cases."
    assert imperative_to_past("Correctly evaluate art.") == "Correctly evaluated art."


def test_occupation_descriptions_speak_in_the_first_person() -> None:
    text = ("Web developers develop and document web software. They are responsible for testing. "
            "Their tasks include support. The role varies.")
    assert occupation_in_first_person("web developer", text) == [
        "I develop and document web software.",
        "I am responsible for testing.",
        "My tasks include support.",
    ]


def test_long_first_sentences_are_cut_at_a_clause() -> None:
    text = "Do " + ", ".join(f"task {i}" for i in range(40)) + ". Next."
    cut = first_sentence(text, max_words=10)
    assert cut.endswith(".") and len(cut.split()) <= 10


def test_titles_keep_acronyms() -> None:
    assert title_case("ict network engineer") == "ICT Network Engineer"
    assert title_case("head of sales and marketing") == "Head of Sales and Marketing"
    assert lower_first("ICT systems") == "ICT systems" and lower_first("Develop it") == "develop it"
