"""Composing one CV, or one project request with its reply, from ESCO entries and Faker names.

The builder (`corpus.py`) decides *what* goes together (an occupation and the skills nearest to it,
a skill and the occupation that would answer for it); this module decides *how it reads*. Every
choice draws from the `random.Random` passed in, so a seed fixes the whole corpus.

The phrasings are many small parts combined at random, so that no two documents share a skeleton
and the writer model has to learn the form rather than memorise one template.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from faker import Faker

from implementor.contracts.persona import Persona
from implementor.contracts.records import CVRecord, PairRecord
from implementor.models.writer.trades import Trade
from implementor.training.corpus.esco import Occupation, Skill
from implementor.training.corpus.language import (
    first_sentence,
    imperative_to_past,
    lower_first,
    occupation_in_first_person,
    sentences,
    title_case,
)

CURRENT_YEAR = 2026
TRAITS = (
    "calm under pressure", "curious", "pragmatic", "thorough", "patient", "direct", "well organised",
    "good with clients", "quick to learn", "reliable", "meticulous", "collaborative", "hands-on",
    "resourceful", "steady", "energetic", "careful with details", "good at explaining things",
)
# Seniority of the current role, of the roles in between, and of the first role.
SENIOR = ("", "Senior ", "Lead ", "Principal ", "Senior ")
MIDDLE = ("", "", "Senior ")
JUNIOR = ("", "Junior ", "Assistant ", "Trainee ", "")
DEGREES = ("BSc", "BA", "MSc", "MA", "BEng", "MEng", "PhD", "Diploma", "Certificate", "HND")
PROJECTS = (
    "rollout", "audit", "pilot", "migration", "tender", "launch", "review", "refit", "campaign",
    "expansion", "renovation", "upgrade", "inspection", "reorganisation", "trial", "handover",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
# The trade book's facts (`trades.py`): a description of a few sentences, and short pieces of work,
# one for each role a CV may list (two to four, each telling of a skill after the first two).
TRADE_SENTENCES, TRADE_WORDS, WORK_ITEMS, WORK_WORDS = 3, 80, 4, 24


@dataclass(frozen=True)
class Context:
    """Everything one document may mention; the builder picks it, the composer phrases it."""

    occupation: Occupation
    skills: tuple[Skill, ...]  # nearest skills first
    knowledge: tuple[Skill, ...]  # fields of knowledge near the occupation, for education


def a_or_an(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def in_prose(title: str) -> str:
    """ "ICT Network Engineer" -> "ICT network engineer": lower case except acronyms."""
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in title.split())


def _pick(rng: random.Random, options: tuple[str, ...] | list[str]) -> str:
    return options[rng.randrange(len(options))]


def _profile(rng: random.Random, title: str, ctx: Context, years: int) -> str:
    job = a_or_an(in_prose(title))
    lead = _pick(rng, (
        f"I am {job} with {years} years of experience.",
        f"I have worked as {job} for {years} years.",
        f"For the last {years} years I have worked as {job}.",
        f"After {years} years as {job}, I still enjoy the work.",
    ))
    said = occupation_in_first_person(ctx.occupation.label, ctx.occupation.description, rng.randint(1, 3))
    a, b = ctx.skills[0].label, ctx.skills[1].label
    focus = _pick(rng, (
        f"Recently I have been asked to {a} and {b}.",
        f"I am at my best when I {a}.",
        f"Colleagues come to me when they need someone to {a}.",
        f"Lately most of my time goes into work where I {b}.",
    ))
    trait_a, trait_b = rng.sample(TRAITS, 2)
    trait = _pick(rng, (
        f"People describe me as {trait_a} and {trait_b}.",
        f"I am {trait_a}, and {trait_b}.",
        f"Those I work with would call me {trait_a}.",
    ))
    parts = [lead, *said, focus]
    if ctx.knowledge and rng.random() < 0.5:
        parts.append(f"I have a solid grounding in {ctx.knowledge[0].label}.")
    parts.append(trait)
    return " ".join(parts)


def _experience(rng: random.Random, fake: Faker, title: str, ctx: Context, years: int) -> list[str]:
    # Each role tells of its own work: nothing said twice (some ESCO skills read alike once shortened).
    achievements = list(dict.fromkeys(imperative_to_past(s.description, 24) for s in ctx.skills[2:] or ctx.skills))
    roles = min(rng.randint(2, 4), years, len(achievements))
    cuts = sorted(rng.sample(range(1, years), roles - 1))  # years ago that each earlier role ended
    edges = [CURRENT_YEAR, *(CURRENT_YEAR - c for c in cuts), CURRENT_YEAR - years]
    lines = []
    for i in range(roles):
        level = _pick(rng, SENIOR if i == 0 else JUNIOR if i == roles - 1 else MIDDLE)
        end = "present" if i == 0 else str(edges[i])
        lines.append(f"- {level}{title}, {fake.company()} ({edges[i + 1]}-{end}). {achievements[i]}")
    return lines


def _education(rng: random.Random, fake: Faker, ctx: Context, years: int) -> list[str]:
    fields = [k.label for k in ctx.knowledge if len(k.label.split()) <= 4] or [ctx.occupation.label.split()[-1]]
    field = title_case(fields[0])
    finished = CURRENT_YEAR - years - rng.randint(0, 3)
    place = _pick(rng, (f"University of {fake.city()}", f"{fake.city()} Institute of Technology",
                        f"{fake.city()} College"))
    lines = [f"- {_pick(rng, DEGREES)} in {field}, {place} ({finished})"]
    if len(ctx.knowledge) > 1 and rng.random() < 0.4:
        lines.append(f"- Course in {title_case(ctx.knowledge[1].label)} ({finished + rng.randint(2, years + 1)})")
    return lines


def _trade_description(text: str) -> str:
    kept: list[str] = []
    for sentence in sentences(text)[:TRADE_SENTENCES]:
        if kept and sum(len(s.split()) for s in kept) + len(sentence.split()) > TRADE_WORDS:
            break
        kept.append(sentence if sentence.endswith((".", "!", "?")) else sentence + ".")
    return " ".join(kept) or first_sentence(text, TRADE_WORDS) + "."


def trade_of(ctx: Context) -> Trade:
    """What the writer's CV prompt says of the context's occupation: the same skills its CVs draw on."""
    work = ctx.skills[2:] or ctx.skills
    return Trade(title=title_case(ctx.occupation.label), description=_trade_description(ctx.occupation.description),
                 skills=tuple(s.label for s in ctx.skills), fields=tuple(k.label for k in ctx.knowledge),
                 work=tuple(first_sentence(s.description, WORK_WORDS).rstrip(".") + "." for s in work[:WORK_ITEMS]))


def compose_cv(rng: random.Random, fake: Faker, ctx: Context) -> CVRecord:
    """A consultant's CV for the context's occupation."""
    title = title_case(ctx.occupation.label)
    years = rng.randint(3, 25)
    shown = list(ctx.skills[: rng.randint(5, min(9, len(ctx.skills)))])
    rng.shuffle(shown)
    body = "\n".join([
        "## Profile", _profile(rng, title, ctx, years), "",
        "## Skills", *(f"- {s.label}" for s in shown), "",
        "## Experience", *_experience(rng, fake, title, ctx, years), "",
        "## Education", *_education(rng, fake, ctx, years),
    ])
    return CVRecord(name=fake.name(), title=title, body=body, occupation=ctx.occupation.label)


def _request(rng: random.Random, skill: Skill, company: str, project: str, asker: str) -> str:
    task = skill.label
    opener = _pick(rng, ("Hi all,", "Hello team,", "Hi,", "Good morning,", "Hey everyone,", "Quick one:", ""))
    need = _pick(rng, (
        f"we need someone to {task} for the {project} at {company}.",
        f"I'm looking for help to {task} before the {project} at {company} goes ahead.",
        f"can anyone help us {task}? It's for the {project} at {company}.",
        f"our {project} at {company} has stalled because nobody on the team can {task}.",
        f"{company} asked us to {task} as part of their {project}.",
    ))
    detail = _pick(rng, ("Concretely, we have to", "In practice that means we must", "The job is to",
                         "What we need is to")) + " " + lower_first(first_sentence(skill.description, 28))
    constraint = _pick(rng, (f"We have {rng.randint(2, 8)} weeks.", f"It has to be ready by {_pick(rng, WEEKDAYS)}.",
                             "The budget is tight.", "The client is flexible on timing.", ""))
    closer = _pick(rng, ("Who could take this on?", "Any takers?", "Can you help?", "Let me know if you can help.",
                         f"Thanks, {asker}", "Ideas welcome."))
    opening = f"{opener} {need[0].upper() + need[1:] if not opener or opener.endswith(':') else need}".strip()
    return " ".join(p for p in (opening, detail, constraint, closer) if p)


def persona_for(rng: random.Random, fake: Faker, ctx: Context) -> Persona:
    """A colleague in the context's occupation, as their whole CV describes them (`Persona.from_cv`): the
    reply then draws its employers and years from that CV and from nowhere else."""
    cv = compose_cv(rng, fake, ctx)
    return Persona.from_cv(cv.name, cv.title, cv.body)


def _experience_line(rng: random.Random, persona: Persona, own: Skill, skill: Skill, near: bool) -> str:
    """The colleague's own experience, in character and from their CV: their title, a role's employer, the
    years since their first role, then what bears on the request."""
    title = a_or_an(in_prose(persona.title))
    before = _pick(rng, [r.employer for r in persona.roles]).rstrip(".")
    years = CURRENT_YEAR - min(r.start for r in persona.roles)
    done = lower_first(imperative_to_past(skill.description, 22))
    own_done = lower_first(imperative_to_past(own.description, 22))
    if near:  # the request is the colleague's own trade
        return _pick(rng, (
            f"I have {years} years as {title}, and at {before} I {done}",
            f"I've done this before: as {title} at {before} I {done}",
            f"This is close to my work as {title} at {before}, where I {done}",
            f"As {title} I {done.rstrip('.')} for {before}, so I know how to {skill.label}.",
        ))
    return _pick(rng, (  # another trade: say so, and bring what carries over from their own
        f"This is a little outside my usual work as {title}, but much of it carries over: at {before} I {own_done}",
        f"Most of my {years} years as {title} went into work where I {own.label}. At {before} I {own_done}",
        f"My day job as {title} is to {own.label}; at {before} I {own_done} The same care would go into this.",
        f"As {title} I {own.label} for a living, and at {before} I {own_done}",
    ))


def _reply(rng: random.Random, skill: Skill, related: tuple[Skill, ...], persona: Persona,
           own: Skill, near: bool, company: str, project: str) -> str:
    experience = _experience_line(rng, persona, own, skill, near)
    first, *rest = related or (skill,)
    then = rest[0].label if rest else skill.label
    approach = _pick(rng, (
        f"For the {project} at {company} I would first {first.label}, then {skill.label}, and finally {then}.",
        f"My plan for the {project}: {first.label}, then {skill.label}, then {then}.",
        f"I'd suggest we {first.label} first, so that we can {skill.label} with confidence.",
        f"To {skill.label} for them, I would start by making sure we {first.label}.",
    ))
    day = _pick(rng, WEEKDAYS)
    next_step = _pick(rng, (
        f"Shall we book 30 minutes on {day} to go through the details?",
        f"Send me what you have so far and I will come back with a plan by {day}.",
        f"I can start on {day}; could you share the current status of the {project}?",
        f"If that works for you, I'll draft a short proposal by {day}.",
    ))
    greeting = _pick(rng, ("Happy to help.", "I can take this on.", "Count me in.", "",
                           "Sounds like a good fit for me." if near else "Happy to give it a go."))
    return " ".join(p for p in (greeting, experience, approach, next_step) if p)


def compose_pair(rng: random.Random, fake: Faker, skill: Skill, related: tuple[Skill, ...], ctx: Context,
                 near: bool = True) -> PairRecord:
    """A request about `skill`, answered in character by a colleague in the context's occupation.

    `near` says whether that occupation is the one nearest to the skill (the colleague's own trade);
    otherwise the reply says the work is outside their usual trade and brings what carries over.
    """
    company = fake.company().rstrip(".")  # it often ends a sentence
    project = _pick(rng, PROJECTS)
    asker = fake.first_name()
    persona = persona_for(rng, fake, ctx)
    own = next(s for s in ctx.skills if s.label in persona.skills)  # the CV lists five or more of them
    return PairRecord(
        request=_request(rng, skill, company, project, asker),
        reply=_reply(rng, skill, related, persona, own, near, company, project),
        subject=skill.label,
        occupation=ctx.occupation.label,
        persona=persona,
    )
