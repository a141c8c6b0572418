"""A follow-up's prompt: the conversation in both formats, and its budget (oldest turns dropped first)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from implementor.contracts.jobs import Turn
from implementor.contracts.persona import Persona
from implementor.models.writer.conversation import fitted_turns
from implementor.models.writer.prompts import reply_prompt

ADA = Persona(name="Ada Lovelace", title="Data Scientist", skills=("manage data",))


def _turns(*texts: str) -> tuple[Turn, ...]:
    return tuple(Turn(role="member" if i % 2 == 0 else "colleague", text=t) for i, t in enumerate(texts))


def test_the_control_format_holds_every_turn_in_order() -> None:
    history = _turns("Can you plan our launch?", "Yes: a week of tests first.")
    assert reply_prompt("What would that cost?", ADA, history) == (
        "<|persona|> Ada Lovelace, Data Scientist; manage data<|request|> Can you plan our launch?"
        "<|reply|> Yes: a week of tests first.<|request|> What would that cost?<|reply|>")


def _words(request: str, persona: Persona | None, history: Sequence[Turn]) -> int:
    """A token count of one token per word: enough to see which turns a budget keeps."""
    return len(reply_prompt(request, persona, history).split())


def test_the_oldest_turns_go_first_and_the_newest_request_stays() -> None:
    history = _turns("one " * 10, "two " * 10, "three " * 10, "four " * 10)
    everything = _words("the newest request", ADA, history)
    assert fitted_turns(_words, "the newest request", ADA, history, everything) == history
    # One word short of everything: the first request and its answer go, together.
    assert fitted_turns(_words, "the newest request", ADA, history, everything - 1) == history[2:]
    # Nothing earlier fits: the prompt is the newest request alone, whole.
    assert fitted_turns(_words, "the newest request", ADA, history, 5) == ()


def test_a_turn_is_checked_and_a_conversation_alternates() -> None:
    from pydantic import ValidationError

    from implementor.contracts.jobs import ProjectJob

    with pytest.raises(ValidationError):
        Turn(role="member", text="\u200b ")  # nothing visible
    with pytest.raises(ValidationError):
        Turn(role="bot", text="hello")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ProjectJob(request="What would that cost?", history=_turns("Plan our launch?"))  # ends with the member
    with pytest.raises(ValidationError):
        ProjectJob(request="What would that cost?",
                   history=(Turn(role="colleague", text="Hi"), Turn(role="member", text="Plan it?")))
    with pytest.raises(ValidationError):
        ProjectJob(request="What would that cost?", history=_turns(*["x"] * 26))  # too many turns
    job = ProjectJob(request="What would that cost?", history=_turns("Plan our launch?", "Yes."))
    assert ProjectJob.model_validate_json(job.model_dump_json()) == job


def test_the_bundled_writer_reads_the_conversation_as_chat_turns_within_its_budget() -> None:
    from implementor.models.writer.conversation import conversation_prompt, prompt_budget
    from implementor.models.writer.model import Writer

    writer = Writer.load(None, "cpu")
    settings = writer.sampling.reply
    history = _turns("Can you plan our launch?", "Yes: a week of tests first.")
    prompt = conversation_prompt(writer, "What would that cost?", ADA, history, settings)
    assert prompt.count("<|im_start|>user") == 2 and prompt.count("<|im_start|>assistant") == 2
    assert prompt.index("Can you plan our launch?") < prompt.index("a week of tests") < prompt.index("cost?")
    assert "You are Ada Lovelace" in prompt
    long = _turns(*[f"turn {i}: " + "word " * 1000 for i in range(24)])  # about 24,000 tokens
    prompt = conversation_prompt(writer, "What would that cost?", ADA, long, settings)
    assert len(writer.tokenizer(prompt)["input_ids"]) <= prompt_budget(writer, settings)
    assert "turn 23:" in prompt and "turn 0:" not in prompt and prompt.rstrip().count("What would that cost?") == 1
