"""How CVs and project replies are written down: corpus records, model prompts and CV sections.

One format serves the corpus, training, generation, evaluation and the bot:

    <|cv|><|name|> Ada Lovelace<|title|> Data Scientist<|body|>## Profile ... <|endoftext|>
    <|persona|> Ada Lovelace, Data Scientist; manage data; interpret statistical data<|request|> Hi all,
        we need someone to ...<|reply|> As a data scientist I have done this before ... <|endoftext|>

The reply prompt carries the colleague who answers (name, title and a few skills from their CV), so
that the reply speaks from that colleague's experience. A pair without a persona (an operator's own
data, or a writer trained before personas existed) is written without the `<|persona|>` part.

(The space after a control token lets the first word use the same BPE token as anywhere else.)

A CV body has four sections, each a `## ` heading: Profile, Skills (bullets), Experience (bullets
with years) and Education (bullets). With the name and title from the prompt, that makes the six
parts a CV must have. `parse_cv` checks them, which is how `eval text` counts well-formed CVs.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

CV, NAME, TITLE, BODY = "<|cv|>", "<|name|>", "<|title|>", "<|body|>"
REQUEST, REPLY, PERSONA = "<|request|>", "<|reply|>", "<|persona|>"
EOS = "<|endoftext|>"
CONTROL_TOKENS = (CV, NAME, TITLE, BODY, REQUEST, REPLY)
# Writers trained since personas exist know this one too; older ones are prompted without it.
PERSONA_TOKENS = (PERSONA,)
PERSONA_SKILLS = 3  # skills a reply prompt names: enough to place the colleague, short enough to stay a prompt
SECTIONS = ("Profile", "Skills", "Experience", "Education")

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class CVRecord(BaseModel):
    """One CV in a corpus JSONL file. Operators can bring their own in this shape."""

    model_config = ConfigDict(extra="allow", frozen=True)
    task: Literal["cv"] = "cv"
    name: Line
    title: Line
    body: Text


class Persona(BaseModel):
    """Who answers a request: a colleague's name, title and a few skills from their CV."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Line
    title: Line
    skills: tuple[Line, ...] = Field((), max_length=8)

    def line(self) -> str:
        """The persona as the writer reads it: "Ada Lovelace, Data Scientist; manage data; ..."."""
        return "; ".join([f"{' '.join(self.name.split())}, {' '.join(self.title.split())}",
                          *(" ".join(s.split()) for s in self.skills[:PERSONA_SKILLS])])


class PairRecord(BaseModel):
    """One project request and the reply that answers it, optionally with the colleague who replies."""

    model_config = ConfigDict(extra="allow", frozen=True)
    task: Literal["reply"] = "reply"
    request: Text
    reply: Text
    subject: str | None = Field(None, description="What the request is about; replies should mention it.")
    persona: Persona | None = Field(None, description="The colleague who replies; the reply speaks as them.")


Record = CVRecord | PairRecord


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


def render_cv(name: str, title: str, body: str) -> str:
    """A CV for people: the name and title as a heading, then the generated sections."""
    return f"# {name}\n**{title}**\n\n{body.strip()}\n"


_HEADING = re.compile(r"^## (.+?)\s*$", re.MULTILINE)
_YEARS = re.compile(r"\b(19|20)\d\d\b")


def cv_sections(body: str) -> dict[str, str]:
    """Section heading -> its text, in order of appearance."""
    parts = _HEADING.split(body)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def bullets(section: str) -> list[str]:
    """The `- ` items of a section, without the dash."""
    return [line[2:].strip() for line in section.splitlines() if line.startswith("- ") and line[2:].strip()]


def cv_skills(body: str) -> list[str]:
    """The Skills bullets of a CV body (empty if it has none)."""
    return bullets(cv_sections(body).get("Skills", ""))


def parse_cv(body: str) -> dict[str, str] | None:
    """The four sections if the body is a complete CV, else None.

    Complete means: every section present once and non-empty, at least three skills, at least one
    role with a year in it, and at least one education entry.
    """
    sections = cv_sections(body)
    if any(not sections.get(name) for name in SECTIONS):
        return None
    items = {name: bullets(sections[name]) for name in SECTIONS[1:]}
    if len(items["Skills"]) < 3 or not items["Education"]:
        return None
    if not any(_YEARS.search(line) for line in items["Experience"]):
        return None
    return {name: sections[name] for name in SECTIONS}
