"""The CV format: four `## ` sections under a name and a title, read and written in one place.

A CV body has four sections, each a `## ` heading: Profile, Skills (bullets), Experience (bullets
with years) and Education (bullets). With the name and title that a prompt or the roster holds,
that makes the six parts a CV must have. The writer's evaluation counts complete CVs with
`parse_cv`, the bot lays the sections out in an embed with `cv_section_list`, and a persona takes
its skills from `cv_skills`.
"""

from __future__ import annotations

import re

SECTIONS = ("Profile", "Skills", "Experience", "Education")
_HEADING = re.compile(r"^## (.+?)\s*$", re.MULTILINE)
_YEARS = re.compile(r"\b(19|20)\d\d\b")


def cv_section_list(body: str) -> list[tuple[str, str]]:
    """(heading, text) of every `## ` section, in order of appearance (repeated headings kept)."""
    parts = _HEADING.split(body)
    return [(parts[i].strip(), parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]


def cv_sections(body: str) -> dict[str, str]:
    """Section heading -> its text, in order of appearance (a repeated heading keeps its last text)."""
    return dict(cv_section_list(body))


def bullets(section: str) -> list[str]:
    """The `- ` items of a section, without the dash."""
    return [line[2:].strip() for line in section.splitlines() if line.startswith("- ") and line[2:].strip()]


def cv_skills(body: str) -> list[str]:
    """The Skills bullets of a CV body (empty if it has none)."""
    return bullets(cv_sections(body).get("Skills", ""))


def parse_cv(body: str) -> dict[str, str] | None:
    """The four sections if the body is a complete CV, else None.

    Complete means: the four sections and nothing else, in order, each once and non-empty; at least
    three skills, at least one role with a year in it, and at least one education entry.
    """
    found = cv_section_list(body)
    if tuple(heading for heading, _ in found) != SECTIONS or _HEADING.split(body)[0].strip():
        return None  # a missing, repeated, extra or misplaced section, or text before the first
    sections = dict(found)
    if any(not sections[name] for name in SECTIONS):
        return None
    items = {name: bullets(sections[name]) for name in SECTIONS[1:]}
    if len(items["Skills"]) < 3 or not items["Education"]:
        return None
    if not any(_YEARS.search(line) for line in items["Experience"]):
        return None
    return {name: sections[name] for name in SECTIONS}


def stray_heading(body: str) -> int | None:
    """Where the first `## ` heading that breaks the four sections' order starts (a section repeated,
    added or out of place), or None. A draft stops being one CV there: the writer stops drafting at
    that point and the draft is cut before it (`cut_at_stray_heading`)."""
    expected = iter(SECTIONS)
    for heading in _HEADING.finditer(body):
        if heading.group(1).strip() != next(expected, None):
            return heading.start()
    return None


def past_profile(body: str) -> bool:
    """Whether a draft has written its Profile: a heading follows it (the drafts of a CV are weighed there)."""
    return any(heading.group(1).strip() != SECTIONS[0] for heading in _HEADING.finditer(body))


def cut_at_stray_heading(body: str) -> str:
    """The body up to its first heading out of order (all of it if there is none)."""
    cut = stray_heading(body)
    return body if cut is None else body[:cut].rstrip()


def drop_repeated_bullets(text: str) -> str:
    """The text without a `- ` bullet that repeats an earlier one of its section (case and spacing ignored).

    A small language model sampling without a repetition penalty sometimes lists a skill twice; a
    penalty strong enough to stop it also breaks the CV's own structure (its headings and dashes are
    repeated tokens too), so the repeats are dropped after sampling instead."""
    seen: set[str] = set()
    kept = []
    for line in text.split("\n"):
        if line.startswith("## "):
            seen = set()
        elif line.startswith("- "):
            key = " ".join(line[2:].lower().split())
            if key in seen:
                continue
            seen.add(key)
        kept.append(line)
    return "\n".join(kept)


def render_cv(name: str, title: str, body: str) -> str:
    """A CV for people: the name and title as a heading, then the generated sections."""
    return f"# {name}\n**{title}**\n\n{body.strip()}\n"


_RENDERED = re.compile(r"\A# (?P<name>[^\n]+)\n\*\*(?P<title>[^\n]+)\*\*\n(?P<body>.*)\Z", re.DOTALL)


def read_cv(text: str) -> tuple[str, str, str] | None:
    """(name, title, body) of a CV as `render_cv` wrote it (the `cv.md` of `implementor introduce`), or None."""
    found = _RENDERED.match(text.strip() + "\n")
    if found is None:
        return None
    return found["name"].strip(), found["title"].strip(), found["body"].strip()
