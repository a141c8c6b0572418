"""The writer's prompts: control tokens, and how a CV or a reply is asked for and written out.

One format serves training, generation and evaluation:

    <|cv|><|name|> Ada Lovelace<|title|> Data Scientist<|body|>## Profile ... <|endoftext|>
    <|persona|> Ada Lovelace, Data Scientist; manage data; interpret statistical data<|request|> Hi all,
        we need someone to ...<|reply|> As a data scientist I have done this before ... <|endoftext|>

The reply prompt carries the colleague who answers (name, title and a few skills from their CV), so
that the reply speaks from that colleague's experience. A pair without a persona (an operator's own
data, or a writer trained before personas existed) is written without the `<|persona|>` part.

(The space after a control token lets the first word use the same BPE token as anywhere else.)
The CV body's own format (its four sections) is `contracts.cv`; the records are `contracts.records`.
"""

from __future__ import annotations

from contracts.persona import Persona
from contracts.records import CVRecord, Record

CV, NAME, TITLE, BODY = "<|cv|>", "<|name|>", "<|title|>", "<|body|>"
REQUEST, REPLY, PERSONA = "<|request|>", "<|reply|>", "<|persona|>"
EOS = "<|endoftext|>"
CONTROL_TOKENS = (CV, NAME, TITLE, BODY, REQUEST, REPLY)
# Writers trained since personas exist know this one too; older ones are prompted without it.
PERSONA_TOKENS = (PERSONA,)


def cv_prompt(name: str, title: str) -> str:
    return f"{CV}{NAME} {name.strip()}{TITLE} {title.strip()}{BODY}"


def reply_prompt(request: str, persona: Persona | None = None) -> str:
    who = f"{PERSONA} {persona.line()}" if persona is not None else ""
    return f"{who}{REQUEST} {request.strip()}{REPLY}"


def judge_prompt_cv(name: str, title: str) -> str:
    """What the BERT heads read as the prompt of a CV (they never see control tokens)."""
    return f"{' '.join(name.split())}, {' '.join(title.split())}"


def prompt_of(record: Record) -> str:
    if isinstance(record, CVRecord):
        return cv_prompt(record.name, record.title)
    return reply_prompt(record.request, record.persona)


def completion_of(record: Record) -> str:
    return record.body if isinstance(record, CVRecord) else " " + record.reply


def training_text(record: Record) -> str:
    """The whole example as the language model sees it, end token included."""
    return prompt_of(record) + completion_of(record) + EOS
