"""Does the writer stay in character? Skills that fit the title, and replies that sound like their colleague.

Both use the sentence encoder (all-MiniLM-L6-v2) as an independent reader:
- skills fit: the cosine between a title and its CV's Skills section (the bullets, joined), normalised
  so that the real CVs of the same titles score 1 and the real Skills of other titles score 0;
- persona consistency: the share of replies closer to their own colleague's CV than to another
  colleague's (a real CV of the persona's title, against one of another title);
- experience fit: the skills-fit measure read on the Experience lines (what each role did), so that a
  role that tells of another trade shows;
- repeated bullets: the share of CVs whose Skills list the same skill twice (a model that loops).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import torch

from implementor.contracts.cv import bullets, cv_sections, cv_skills
from implementor.contracts.records import CVRecord, PairRecord
from implementor.models.common.encoder import SentenceEncoder


def repeated_bullet_rate(bodies: Sequence[str]) -> float:
    """Share of CV bodies whose Skills section repeats a bullet (case and spacing ignored)."""
    def repeats(body: str) -> bool:
        skills = [" ".join(s.lower().split()) for s in cv_skills(body)]
        return len(skills) != len(set(skills))

    return sum(map(repeats, bodies)) / max(1, len(bodies))


def _skills_text(body: str) -> str:
    return "; ".join(cv_skills(body)) or body[:300]


def _experience_text(body: str) -> str:
    """What the Experience lines say was done, without their titles, employers and years (which name the
    trade outright)."""
    done = [line.split(").", 1)[-1].strip() for line in bullets(cv_sections(body).get("Experience", ""))]
    return " ".join(d for d in done if d) or body[:300]


def skills_fit(encoder: SentenceEncoder, real: Sequence[CVRecord], generated: Sequence[tuple[str, str]],
               seed: int = 0, text_of: Callable[[str], str] = _skills_text) -> dict[str, float]:
    """Normalised title-to-Skills similarity of generated (title, body) pairs; see the module docstring.
    `text_of` picks another part of the CV to read (`experience_fit`)."""
    by_title: dict[str, list[str]] = {}
    for record in real:
        by_title.setdefault(record.title, []).append(text_of(record.body))
    titles = [t for t, _ in generated if t in by_title]
    if not titles or len(by_title) < 2:
        raise ValueError("skills fit needs generated CVs for titles with real CVs, and real CVs of two titles")
    rng = random.Random(seed)
    others = [rng.choice([s for t2, skills in by_title.items() if t2 != t for s in skills]) for t in titles]
    own = [by_title[t][0] for t in titles]
    gen = [text_of(b) for t, b in generated if t in by_title]
    title_vec = encoder.encode(titles)

    def mean_cos(texts: list[str]) -> float:
        return float((encoder.encode(texts) * title_vec).sum(-1).mean())

    real_score, other_score, gen_score = mean_cos(own), mean_cos(others), mean_cos(gen)
    return {"normalised": round((gen_score - other_score) / (real_score - other_score), 3),
            "generated": round(gen_score, 4), "real": round(real_score, 4), "other_title": round(other_score, 4),
            "cvs": len(gen)}


def experience_fit(encoder: SentenceEncoder, real: Sequence[CVRecord], generated: Sequence[tuple[str, str]],
                   seed: int = 0) -> dict[str, float]:
    """The skills-fit measure read on the Experience lines: do they tell of the colleague's own trade?"""
    return skills_fit(encoder, real, generated, seed, _experience_text)


def persona_consistency(encoder: SentenceEncoder, replies: Sequence[tuple[PairRecord, str]],
                        real_cvs: Sequence[CVRecord], seed: int = 0) -> dict[str, float]:
    """Share of replies closer to a real CV of their persona's title than to one of another title."""
    by_title: dict[str, str] = {}
    for record in real_cvs:
        by_title.setdefault(record.title, record.body)
    rng = random.Random(seed)
    rows = [(reply, by_title[p.persona.title]) for p, reply in replies if p.persona and p.persona.title in by_title]
    if not rows or len(by_title) < 2:
        raise ValueError("persona consistency needs replies whose persona's title has a real CV")
    titles = list(by_title)
    others = []
    for p, _ in replies:
        if p.persona and p.persona.title in by_title:
            others.append(by_title[rng.choice([t for t in titles if t != p.persona.title])])
    reply_vec = encoder.encode([r for r, _ in rows])
    own = (encoder.encode([cv for _, cv in rows]) * reply_vec).sum(-1)
    other = (encoder.encode(others) * reply_vec).sum(-1)
    return {"rate": round(float((own > other).float().mean()), 3), "replies": len(rows),
            "mean_margin": round(float(torch.mean(own - other)), 4)}
