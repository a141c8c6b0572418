from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from models.text_format import (
    CVRecord,
    PairRecord,
    Record,
    cv_prompt,
    parse_cv,
    render_cv,
    reply_prompt,
    training_text,
)

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


def test_prompts_use_the_control_tokens() -> None:
    expected = "<|cv|><|name|> Ada  Lovelace<|title|> Data Scientist<|body|>"
    assert cv_prompt(" Ada  Lovelace", "Data Scientist ") == expected
    assert reply_prompt("Help!") == "<|request|> Help!<|reply|>"
    record = PairRecord(request="Can you help?", reply="Yes.", subject="help")
    assert training_text(record) == "<|request|> Can you help?<|reply|> Yes.<|endoftext|>"


def test_records_validate_and_keep_extra_fields() -> None:
    adapter = TypeAdapter(Record)
    cv = adapter.validate_json('{"task": "cv", "name": "Ada", "title": "Analyst", "body": "x", "occupation": "a"}')
    assert isinstance(cv, CVRecord) and cv.model_dump()["occupation"] == "a"
    with pytest.raises(ValidationError):
        adapter.validate_json('{"task": "cv", "name": "", "title": "Analyst", "body": "x"}')
    with pytest.raises(ValidationError):
        adapter.validate_json('{"task": "poem", "text": "x"}')


def test_render_cv_puts_name_and_title_first() -> None:
    assert render_cv("Ada", "Analyst", BODY).startswith("# Ada\n**Analyst**\n\n## Profile")


def test_a_reply_prompt_carries_the_persona_that_answers() -> None:
    from models.text_format import Persona

    ada = Persona(name="Ada  Lovelace", title="Data Scientist", skills=("manage data", "interpret data", "model", "x"))
    prompt = reply_prompt("Help!", ada)
    assert prompt == ("<|persona|> Ada Lovelace, Data Scientist; manage data; interpret data; model"
                      "<|request|> Help!<|reply|>")
    record = PairRecord(request="Can you help?", reply="Yes.", persona=ada)
    assert training_text(record).startswith("<|persona|> Ada Lovelace, Data Scientist;")
    assert PairRecord.model_validate_json(record.model_dump_json()).persona == ada
