"""The CV format: sections, completeness, rendering."""
from __future__ import annotations

import pytest

from implementor.contracts.cv import parse_cv, render_cv

BODY = """## Profile
I am a data scientist with 6 years of experience.

## Skills
- interpret statistical data
- manage data
- apply statistical analysis techniques

## Experience
- Senior Data Scientist, Acme Ltd (2021-present). Built forecasting models.

## Education
- MSc in Statistics, University of Leeds (2019)"""


def test_a_complete_cv_parses_into_every_section() -> None:
    sections = parse_cv(BODY)
    assert sections is not None
    assert list(sections) == ["Profile", "Skills", "Experience", "Education"]
    assert sections["Education"].startswith("- MSc")

@pytest.mark.parametrize(
    "broken",
    [
        BODY.replace("## Education\n- MSc in Statistics, University of Leeds (2019)", ""),  # section missing
        BODY.replace("- manage data\n- apply statistical analysis techniques\n", ""),  # one skill only
        BODY.replace("(2021-present)", "(recently)"),  # a role without years
        BODY.replace("## Profile\nI am a data scientist with 6 years of experience.\n", "## Profile\n"),  # empty
    ],
)
def test_incomplete_cvs_do_not_parse(broken: str) -> None:
    assert parse_cv(broken) is None

def test_render_cv_puts_name_and_title_first() -> None:
    assert render_cv("Ada", "Analyst", BODY).startswith("# Ada\n**Analyst**\n\n## Profile")


def test_a_rendered_cv_reads_back_into_name_title_and_body() -> None:
    from implementor.contracts.cv import read_cv, render_cv

    body = "## Profile\nI build things.\n\n## Skills\n- weld\n- plan"
    assert read_cv(render_cv("Ada Lovelace", "Data Scientist", body)) == ("Ada Lovelace", "Data Scientist", body)
    assert read_cv("## Profile\nno heading") is None and read_cv("# Ada\nno title line") is None


@pytest.mark.parametrize(
    "broken",
    [
        BODY.replace("## Experience", "## Profile\nA second profile.\n\n## Experience"),  # a section twice
        BODY.replace("## Skills", "## Hobbies\n- chess\n\n## Skills"),  # a section that is not one of the four
        # Experience and Education swapped: every section once, but out of order.
        BODY.split("## Experience")[0] + "## Education" + BODY.split("## Education")[1] + "\n\n## Experience"
        + BODY.split("## Experience")[1].split("## Education")[0],
        "Here is my CV.\n\n" + BODY,  # text before the first section
    ],
    ids=["repeated", "extra", "out-of-order", "preamble"],
)
def test_a_cv_has_the_four_sections_in_order_each_once(broken: str) -> None:
    assert parse_cv(broken) is None


def test_a_repeated_bullet_is_dropped_within_its_section_only() -> None:
    from implementor.contracts.cv import drop_repeated_bullets

    body = BODY.replace("- manage data\n", "- manage data\n- Manage  data\n") + "\n- manage data"
    tidy = drop_repeated_bullets(body)
    assert tidy.count("- manage data") == 2 and "Manage  data" not in tidy  # once in Skills, once in Education
    assert drop_repeated_bullets(BODY) == BODY


def test_a_draft_is_cut_at_its_first_heading_out_of_order() -> None:
    from implementor.contracts.cv import cut_at_stray_heading, stray_heading

    assert stray_heading(BODY) is None and cut_at_stray_heading(BODY) == BODY
    again = BODY + "\n## Profile\nI said that already.\n## Skills\n- more"
    assert cut_at_stray_heading(again) == BODY.rstrip() and parse_cv(cut_at_stray_heading(again)) is not None
    skipped = "## Profile\nHi.\n## Experience\n- Tester, 2020"
    assert stray_heading(skipped) == skipped.index("## Experience")
    assert cut_at_stray_heading("## Skills\n- a") == ""  # a draft that starts anywhere but its Profile
