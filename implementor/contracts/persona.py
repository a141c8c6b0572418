"""Who a colleague is, as the writer reads it: their CV, parsed into the facts a reply may draw on.

A persona travels with a project job (the bot takes it from the server's roster: `from_cv` parses the
hired colleague's CV), sits in the reply prompt, and is stored with every request/reply pair of the
writer's corpus, so the writer learns to answer as that colleague and from that colleague's past:

- name and title;
- the Profile's opening (who they say they are, and for how long);
- the skills their CV lists;
- each role of their Experience, with its employer and years (`cv_facts.roles`);
- their education, as written.

A reply may name an employer, place, degree or year only if it is here or in the request
(`contracts/grounding.py` checks). A persona made before CVs travelled with jobs (name, title and
three skills) still reads: the facts it lacks are empty.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from implementor.contracts.cv import bullets, cv_sections, cv_skills
from implementor.contracts.cv_facts import roles

PERSONA_SKILLS = 3  # skills the control format's one-line persona names
CV_SKILLS = 8  # skills a persona keeps from its CV (a CV lists five to nine)
CV_ROLES = 4  # roles kept, newest first: the corpus's CVs have two to four
CV_EDUCATION = 2
PROFILE_CHARS = 400  # the Profile's first sentences: who they are and for how long

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Role(BaseModel):
    """One role of a CV's Experience: what they were, where, and when (end None: to the present)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: Line
    employer: Line
    start: int = Field(ge=1900, le=2100)
    end: int | None = Field(None, ge=1900, le=2100)

    def line(self) -> str:
        return f"{self.title}, {self.employer} ({self.start}-{self.end or 'present'})"


class Persona(BaseModel):
    """Who answers a request: a colleague's name, title, and the facts of their CV."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Line
    title: Line
    skills: tuple[Line, ...] = Field((), max_length=CV_SKILLS)
    profile: Annotated[str, StringConstraints(strip_whitespace=True, max_length=PROFILE_CHARS)] = ""
    roles: tuple[Role, ...] = Field((), max_length=CV_ROLES)
    education: tuple[Line, ...] = Field((), max_length=CV_EDUCATION)

    def line(self) -> str:
        """The persona as a writer trained on the control format reads it: "Ada Lovelace, Data Scientist; ..."."""
        return "; ".join([f"{' '.join(self.name.split())}, {' '.join(self.title.split())}",
                          *(" ".join(s.split()) for s in self.skills[:PERSONA_SKILLS])])

    def facts(self) -> str:
        """The CV as a reply prompt gives it, one part a line; empty for a persona without a CV."""
        lines = []
        if self.profile:
            lines.append(f"Profile: {self.profile}")
        if self.skills:
            lines.append("Skills: " + "; ".join(self.skills))
        if self.roles:
            lines.append("Experience: " + "; ".join(role.line() for role in self.roles))
        if self.education:
            lines.append("Education: " + "; ".join(self.education))
        return "\n".join(lines)

    def known_text(self) -> str:
        """Everything this persona may say of itself, as one text (for the grounding check)."""
        return "\n".join([self.name, self.title, self.facts()])

    @classmethod
    def from_cv(cls, name: str, title: str, cv: str) -> Persona:
        """A colleague as their CV describes them (a CV missing a section gives that part empty)."""
        sections = cv_sections(cv)
        return cls(name=name, title=title, skills=tuple(s[:200] for s in cv_skills(cv)[:CV_SKILLS]),
                   profile=_opening(sections.get("Profile", "")),
                   roles=tuple(Role(title=r.title[:200], employer=r.employer[:200], start=r.start, end=r.end)
                               for r in roles(cv)[:CV_ROLES] if _plausible(r.start, r.end)),
                   education=tuple(e[:200] for e in bullets(sections.get("Education", ""))[:CV_EDUCATION]))


def _plausible(start: int, end: int | None) -> bool:
    return 1900 <= start <= 2100 and (end is None or 1900 <= end <= 2100)


def _opening(profile: str) -> str:
    """The Profile's first sentences, whole, within `PROFILE_CHARS`."""
    text = " ".join(profile.split())
    if len(text) <= PROFILE_CHARS:
        return text
    cut = text[:PROFILE_CHARS]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[: end + 1] if end > 0 else cut.rsplit(" ", 1)[0]
