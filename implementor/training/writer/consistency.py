"""Does the colleague keep its story? What members read side by side: its CV, and its replies.

`implementor eval consistency` hires colleagues the way the bot does (`ColleaguePipeline.introduce`:
the CV that would be posted), then has each answer requests from the corpus's test split the way a
`/project` job is answered (`ColleaguePipeline.answer`, the persona parsed from that posted CV), and
reads what would be posted:

- CVs that add up: the share keeping rules 1-3 of `contracts/cv_facts.py` (stated years, roles in
  order without overlap, a degree before the first role), and the share saying a sentence twice (rule 4);
- replies from their own CV: the share naming an employer, client, place, degree or year found in
  neither the colleague's CV nor the request (`contracts/grounding.py` reads them), and the share
  saying a sentence twice;
- Experience lines that tell of the colleague's own trade: `character.experience_fit` next to
  `character.skills_fit` (MiniLM, normalised so that the corpus's CVs of the same titles score 1).

The drafting rules that mend and refuse drafts (`models/writer/drafts.py`) use the same readers, so
the posted figures say what the rules let through; `raw_replies` also reads replies drafted without
them, the writer's own rate.
"""

from __future__ import annotations

import datetime
import logging
import random
from pathlib import Path
from typing import Any

from tqdm import tqdm

from implementor.contracts.cv_facts import problems, repeated
from implementor.contracts.grounding import ungrounded
from implementor.contracts.persona import Persona
from implementor.contracts.records import CVRecord, PairRecord
from implementor.models.common.encoder import MINILM, SentenceEncoder
from implementor.models.pipeline import ColleaguePipeline, Introduction, PersonaRequest
from implementor.models.writer.drafts import generate_many, reply_prompt_for
from implementor.training.corpus.splits import SPLITS, load_split
from implementor.training.writer.character import experience_fit, skills_fit

log = logging.getLogger(__name__)
BATCH = 8  # introductions and replies drafted together, as a worker batches jobs that arrive together


def _share(flags: list[bool]) -> float:
    return round(sum(flags) / max(1, len(flags)), 4)


def cv_figures(bodies: list[str], year: int) -> dict[str, Any]:
    """Rules 1-3 kept, and rule 4 broken, over CV bodies."""
    broken = [problems(body, year) for body in bodies]
    adds_up = [not [p for p in found if not p.startswith("said twice")] for found in broken]
    return {"cvs": len(bodies), "add_up": _share(adds_up), "say_twice": _share([bool(repeated(b)) for b in bodies])}


def reply_figures(replies: list[tuple[str, Persona, str]]) -> dict[str, Any]:
    """Ungrounded names and repeats over (reply, persona, request), with examples of what was found."""
    found = [ungrounded(reply, persona.known_text(), request) for reply, persona, request in replies]
    return {"replies": len(replies), "ungrounded": _share([bool(f) for f in found]),
            "say_twice": _share([bool(repeated(reply)) for reply, _, _ in replies]),
            "examples": [f for f in found if f][:10]}


def hire(pipeline: ColleaguePipeline, colleagues: int, seed: int) -> list[Introduction]:
    hired: list[Introduction] = []
    for start in tqdm(range(0, colleagues, BATCH), desc="hire", unit="batch"):
        requests = [PersonaRequest(seed=seed + i) for i in range(start, min(colleagues, start + BATCH))]
        hired += pipeline.introduce(requests, {})
    return hired


def answer(pipeline: ColleaguePipeline, asked: list[tuple[str, Persona]], seed: int) -> list[str]:
    replies: list[str] = []
    for start in tqdm(range(0, len(asked), BATCH), desc="answer", unit="batch"):
        replies += [a.reply for a in pipeline.answer(asked[start:start + BATCH], {}, seed + start)]
    return replies


def raw_replies(pipeline: ColleaguePipeline, asked: list[tuple[str, Persona]], seed: int) -> list[str]:
    """One reply per request as the writer drafts it, with no rule refusing or mending it."""
    writer = pipeline.writer
    prompts = [reply_prompt_for(writer, request, persona) for request, persona in asked]
    drafts = []
    for start in tqdm(range(0, len(prompts), BATCH), desc="raw replies", unit="batch"):
        drafts += generate_many(writer, prompts[start:start + BATCH], 1, writer.sampling.reply, seed + start,
                                max_rounds=1, engine=pipeline.engine)
    return [d[0] if d else "" for d in drafts]


def consistency(pipeline: ColleaguePipeline, corpus: Path, colleagues: int = 50, requests_each: int = 4,
                raw: int = 60, seed: int = 0) -> dict[str, Any]:
    """The figures of the module docstring, for `colleagues` hires answering `requests_each` requests each."""
    year = datetime.date.today().year
    hired = hire(pipeline, colleagues, seed)
    pairs = [r for r in load_split(corpus, "test") if isinstance(r, PairRecord)]
    rng = random.Random(seed)
    asked = [(rng.choice(pairs).request, Persona.from_cv(c.name, c.title, c.cv))
             for c in hired for _ in range(requests_each)]
    replies = answer(pipeline, asked, seed)
    posted = reply_figures([(r, p, q) for r, (q, p) in zip(replies, asked, strict=True)])
    report: dict[str, Any] = {"year": year, "cv": cv_figures([c.cv for c in hired], year), "reply": posted}
    if raw:
        drafted = raw_replies(pipeline, asked[:raw], seed)
        report["reply_raw"] = reply_figures([(r, p, q) for r, (q, p) in zip(drafted, asked[:raw], strict=True)])
    real = [r for split in SPLITS for r in load_split(corpus, split) if isinstance(r, CVRecord)]
    encoder = SentenceEncoder.load(MINILM, "cpu")
    generated = [(c.title, c.cv) for c in hired]
    report["skills_fit"] = skills_fit(encoder, real, generated)
    report["experience_fit"] = experience_fit(encoder, real, generated)
    report["corpus"] = {"cv": cv_figures([r.body for r in real], year),
                        "reply": reply_figures([(r.reply, r.persona, r.request) for split in SPLITS
                                                for r in load_split(corpus, split)
                                                if isinstance(r, PairRecord) and r.persona is not None])}
    return report
