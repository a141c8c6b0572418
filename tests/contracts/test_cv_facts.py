"""A CV's facts and the four rules that make them add up: parsed from the CV format, and kept by the corpus."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from implementor.contracts.cv_facts import (
    Role,
    degrees,
    mend,
    problems,
    profile_years,
    repeated,
    roles,
    without_repeats,
)

CORPUS = Path(__file__).parents[2] / "implementor" / "models" / "bundled" / "writer-corpus"
GOOD = """## Profile
I have worked as a data analyst for 9 years. I turn sales figures into decisions.

## Skills
- analyse data

## Experience
- Senior Data Analyst, Acme GmbH (2021-present). Led the weekly sales review.
- Data Analyst, Beta SA (2017-2021). Built the first dashboards for the buyers.

## Education
- MSc in Statistics, University of Leiden (2016)
- Course in Forecasting (2022)
"""


def test_a_cvs_roles_degrees_and_stated_years_are_read() -> None:
    assert roles(GOOD) == [Role("Senior Data Analyst", "Acme GmbH", 2021, None),
                           Role("Data Analyst", "Beta SA", 2017, 2021)]
    assert degrees(GOOD) == [2016, 2022] and profile_years(GOOD) == 9
    assert problems(GOOD, 2026) == []


@pytest.mark.parametrize("change, problem", [
    (("for 9 years", "for 19 years"), "the Profile says 19 years, but the roles run from 2017 (9 years)"),
    (("(2017-2021)", "(2017-2023)"), "Data Analyst (2017-2023) is not before Senior Data Analyst (2021-present)"),
    (("(2016)", "(2019)"), "the first degree (2019) comes after the first role (2017)"),
    (("Built the first dashboards for the buyers.", "Led the weekly sales review."),
     "said twice: Led the weekly sales review"),
])
def test_each_rule_names_what_breaks_it(change: tuple[str, str], problem: str) -> None:
    assert problems(GOOD.replace(*change), 2026) == [problem]


def test_short_fragments_may_recur_and_case_does_not_hide_a_repeat() -> None:
    assert repeated("Team lead. Team lead.") == []
    assert repeated("I monitor equipment that sets sleepers.\nI MONITOR equipment that sets sleepers!") == [
        "I MONITOR equipment that sets sleepers"]


def cvs(split: str) -> list[str]:
    with gzip.open(CORPUS / f"{split}.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [r["body"] for r in map(json.loads, lines) if r["task"] == "cv"]


def test_the_corpus_cvs_add_up() -> None:
    """The corpus was written in 2026: every CV's years add up, its roles run in order, its degree comes
    first, and it says nothing twice."""
    for split in ("train", "validation", "test"):
        broken = [p for body in cvs(split) for p in problems(body, 2026)]
        assert broken == [], broken[:3]


def test_mending_restates_the_years_and_drops_repeats_as_an_editor_would() -> None:
    drafted = GOOD.replace("for 9 years", "for 19 years").replace(
        "Built the first dashboards for the buyers.", "Led the weekly sales review.")
    mended = mend(drafted, 2026)
    assert problems(mended, 2026) == [] and "for 9 years" in mended
    assert "- Data Analyst, Beta SA (2017-2021)." in mended  # the role stays; only its repeated line goes
    assert mend(GOOD, 2026) == GOOD
    # What is not the editor's to fix stays broken, and drafting refuses it.
    assert problems(mend(GOOD.replace("(2017-2021)", "(2017-2023)"), 2026), 2026)


def test_a_line_said_twice_goes_whole() -> None:
    text = "- plan the spring launch for the whole team\n- Plan the spring launch for the whole team.\n- budget"
    assert without_repeats(text) == "- plan the spring launch for the whole team\n- budget"
