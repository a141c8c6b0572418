"""The facts of a CV, and the rules that make them add up, as members read them side by side.

`roles` reads the Experience bullets (`- Title, Employer (2017-2023). What they did.`), `degrees` the
Education bullets' years, `profile_years` the years the Profile claims ("for 19 years", "19 years of
experience"). `problems` says, in words, which of these rules a CV breaks:

1. the years its Profile states match its roles' dates, up to `year` (within one year);
2. its roles run newest first, each ending before the next one up begins (no overlap);
3. its first degree comes no later than its first role;
4. it says no sentence or line twice.

`mend` fixes what an editor would fix without asking (the Profile's years restated from the roles, a
repeat left out); drafting mends every CV draft and refuses one that still breaks a rule.

Every CV of the writer's corpus keeps all four (`tests/contracts/test_cv_facts.py` reads them all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from implementor.contracts.cv import bullets, cv_sections

_ROLE = re.compile(r"^(?P<title>[^,(]+?),\s*(?P<employer>[^(]+?)\s*"
                   r"\((?P<start>\d{4})\s*[-–]\s*(?P<end>\d{4}|present)\)")
_STATED = re.compile(r"\b(\d{1,2})\s+years\b", re.IGNORECASE)
_YEAR_AT_END = re.compile(r"\((\d{4})\)\s*\.?\s*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n")
REPEAT_MIN_CHARS = 20  # shorter fragments ("Team lead.") may recur in a real CV


@dataclass(frozen=True)
class Role:
    title: str
    employer: str
    start: int
    end: int | None  # None: to the present


def roles(body: str) -> list[Role]:
    """The roles of the Experience section, in the order written; lines that name no years are skipped."""
    found = []
    for line in bullets(cv_sections(body).get("Experience", "")):
        match = _ROLE.match(line)
        if match:
            end = None if match["end"] == "present" else int(match["end"])
            found.append(Role(match["title"].strip(), match["employer"].strip(), int(match["start"]), end))
    return found


def degrees(body: str) -> list[int]:
    """The years of the Education section's entries, in the order written."""
    years = (_YEAR_AT_END.search(line) for line in bullets(cv_sections(body).get("Education", "")))
    return [int(match.group(1)) for match in years if match]


def profile_years(body: str) -> int | None:
    """The years of experience the Profile claims, if it claims a number."""
    match = _STATED.search(cv_sections(body).get("Profile", ""))
    return int(match.group(1)) if match else None


def repeated(body: str) -> list[str]:
    """Sentences or lines said more than once (compared without case, spaces and end punctuation)."""
    seen: set[str] = set()
    twice = []
    for piece in _SENTENCE.split(body):
        text = piece.strip().lstrip("-# ").rstrip(".!? ")
        key = " ".join(text.lower().split())
        if len(key) < REPEAT_MIN_CHARS:
            continue
        if key in seen and text not in twice:
            twice.append(text)
        seen.add(key)
    return twice


def problems(body: str, year: int) -> list[str]:
    """What breaks the four rules (the module docstring), in words; empty when the CV adds up."""
    found = []
    jobs, stated = roles(body), profile_years(body)
    if stated is not None and jobs:
        first = min(r.start for r in jobs)
        if abs((year - first) - stated) > 1:
            found.append(f"the Profile says {stated} years, but the roles run from {first} ({year - first} years)")
    for newer, older in zip(jobs, jobs[1:], strict=False):
        if older.start > newer.start or (older.end or year) > newer.start:
            found.append(f"{older.title} ({older.start}-{older.end or 'present'}) is not before "
                         f"{newer.title} ({newer.start}-{newer.end or 'present'})")
    if any(r.end is not None and r.end < r.start for r in jobs):
        found.append("a role ends before it begins")
    years = degrees(body)
    if years and jobs and min(years) > min(r.start for r in jobs):
        found.append(f"the first degree ({min(years)}) comes after the first role ({min(r.start for r in jobs)})")
    found += [f"said twice: {text}" for text in repeated(body)]
    return found


def _key(piece: str) -> str:
    return " ".join(piece.strip().lstrip("-# ").rstrip(".!? ").lower().split())


def without_repeats(text: str) -> str:
    """The text with every sentence or line it has already said (rule 4) left out; a bullet left empty goes."""
    seen: set[str] = set()
    lines = []
    for line in text.split("\n"):
        kept = []
        for piece in re.split(r"(?<=[.!?])\s+", line):
            key = _key(piece)
            if len(key) >= REPEAT_MIN_CHARS and key in seen:
                continue
            seen.add(key)
            kept.append(piece)
        mended = " ".join(kept)
        if line.strip() and not mended.strip("-# "):
            continue  # the whole line was a repeat
        lines.append(mended)
    return "\n".join(lines)


def restate_years(body: str, year: int) -> str:
    """The body with its Profile's stated years (rule 1) made to match its roles' dates, as an editor would."""
    jobs = roles(body)
    profile = cv_sections(body).get("Profile", "")
    match = _STATED.search(profile)
    if not jobs or match is None:
        return body
    span = max(1, year - min(r.start for r in jobs))
    if abs(span - int(match.group(1))) <= 1:
        return body
    fixed = profile[: match.start()] + f"{span} year{'s' if span != 1 else ''}" + profile[match.end():]
    return body.replace(profile, fixed, 1)


def mend(body: str, year: int) -> str:
    """A CV draft with what an editor would fix without asking: the Profile's years restated from the roles
    (rule 1) and anything said twice left out (rule 4). Rules 2 and 3 are not mended: a draft breaking them
    is refused (`models/writer/drafts.py`)."""
    return restate_years(without_repeats(body), year)
