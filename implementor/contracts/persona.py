"""Who a colleague is, as the writer reads it: a name, a job title and a few skills from their CV.

A persona travels with a project job (the bot takes it from the server's roster), sits in the reply
prompt (`<|persona|> Ada Lovelace, Data Scientist; manage data; ...`), and is stored with every
request/reply pair of the writer's corpus, so the writer learns to answer as that colleague.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from implementor.contracts.cv import cv_skills

PERSONA_SKILLS = 3  # skills a reply prompt names: enough to place the colleague, short enough to stay a prompt

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


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

    @classmethod
    def from_cv(cls, name: str, title: str, cv: str) -> Persona:
        """A colleague as their CV describes them: the first skills it lists."""
        return cls(name=name, title=title, skills=tuple(s[:200] for s in cv_skills(cv)[:PERSONA_SKILLS]))
