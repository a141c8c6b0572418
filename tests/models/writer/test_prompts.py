"""The writer's prompts: control tokens, and the persona in a reply prompt."""

from __future__ import annotations

from implementor.contracts.records import PairRecord
from implementor.models.writer.prompts import cv_prompt, reply_prompt, training_text


def test_prompts_use_the_control_tokens() -> None:
    expected = "<|cv|><|name|> Ada  Lovelace<|title|> Data Scientist<|body|>"
    assert cv_prompt(" Ada  Lovelace", "Data Scientist ") == expected
    assert reply_prompt("Help!") == "<|request|> Help!<|reply|>"
    record = PairRecord(request="Can you help?", reply="Yes.", subject="help")
    assert training_text(record) == "<|request|> Can you help?<|reply|> Yes.<|endoftext|>"


def test_a_reply_prompt_carries_the_persona_that_answers() -> None:
    from implementor.contracts.persona import Persona

    ada = Persona(name="Ada  Lovelace", title="Data Scientist", skills=("manage data", "interpret data", "model", "x"))
    prompt = reply_prompt("Help!", ada)
    assert prompt == ("<|persona|> Ada Lovelace, Data Scientist; manage data; interpret data; model"
                      "<|request|> Help!<|reply|>")
    record = PairRecord(request="Can you help?", reply="Yes.", persona=ada)
    assert training_text(record).startswith("<|persona|> Ada Lovelace, Data Scientist;")
    assert PairRecord.model_validate_json(record.model_dump_json()).persona == ada


def test_a_writer_that_reads_personas_gets_one_and_an_older_writer_does_not(tiny_writer_dir) -> None:  # type: ignore[no-untyped-def]
    from implementor.contracts.persona import Persona
    from implementor.models.writer.drafts import reply_prompt_for
    from implementor.models.writer.model import Writer

    ada = Persona(name="Ada Lovelace", title="Data Scientist", skills=("manage data",))
    trained = Writer.load(tiny_writer_dir, "cpu")
    assert trained.knows_persona
    assert reply_prompt_for(trained, "Help us plan the launch?", ada).startswith(
        "<|persona|> Ada Lovelace, Data Scientist; manage data<|request|>")
    bundled = Writer.load(None, "cpu")  # the fine-tuned SmolLM2: plain instructions in its chat format
    prompt = reply_prompt_for(bundled, "Help us plan the launch?", ada)
    assert bundled.format.name == "instruct" and "<|persona|>" not in prompt
    assert "You are Ada Lovelace, Data Scientist; your skills include manage data." in prompt


def test_an_older_writer_without_the_persona_token_gets_the_plain_prompt(tiny_writer_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A checkpoint trained before personas existed: its tokenizer has no `<|persona|>` special token."""
    import json
    import shutil

    from implementor.contracts.persona import Persona
    from implementor.models.writer.drafts import reply_prompt_for
    from implementor.models.writer.model import Writer

    older_dir = tmp_path / "older"
    shutil.copytree(tiny_writer_dir, older_dir)
    tokenizer = json.loads((older_dir / "tokenizer.json").read_text())
    tokenizer["added_tokens"] = [t for t in tokenizer["added_tokens"] if t["content"] != "<|persona|>"]
    (older_dir / "tokenizer.json").write_text(json.dumps(tokenizer))
    config = json.loads((older_dir / "tokenizer_config.json").read_text())
    config["extra_special_tokens"] = [t for t in config.get("extra_special_tokens", []) if t != "<|persona|>"]
    (older_dir / "tokenizer_config.json").write_text(json.dumps(config))
    older = Writer.load(older_dir, "cpu")
    assert not older.knows_persona
    ada = Persona(name="Ada Lovelace", title="Data Scientist", skills=("manage data",))
    assert reply_prompt_for(older, "Help us plan the launch?", ada) == "<|request|> Help us plan the launch?<|reply|>"
