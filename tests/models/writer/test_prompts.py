"""The writer's prompts: control tokens, and the persona in a reply prompt."""

from __future__ import annotations

from contracts.records import PairRecord
from models.writer.prompts import cv_prompt, reply_prompt, training_text


def test_prompts_use_the_control_tokens() -> None:
    expected = "<|cv|><|name|> Ada  Lovelace<|title|> Data Scientist<|body|>"
    assert cv_prompt(" Ada  Lovelace", "Data Scientist ") == expected
    assert reply_prompt("Help!") == "<|request|> Help!<|reply|>"
    record = PairRecord(request="Can you help?", reply="Yes.", subject="help")
    assert training_text(record) == "<|request|> Can you help?<|reply|> Yes.<|endoftext|>"


def test_a_reply_prompt_carries_the_persona_that_answers() -> None:
    from contracts.persona import Persona

    ada = Persona(name="Ada  Lovelace", title="Data Scientist", skills=("manage data", "interpret data", "model", "x"))
    prompt = reply_prompt("Help!", ada)
    assert prompt == ("<|persona|> Ada Lovelace, Data Scientist; manage data; interpret data; model"
                      "<|request|> Help!<|reply|>")
    record = PairRecord(request="Can you help?", reply="Yes.", persona=ada)
    assert training_text(record).startswith("<|persona|> Ada Lovelace, Data Scientist;")
    assert PairRecord.model_validate_json(record.model_dump_json()).persona == ada
