"""Composing a conversation: a request, the colleague's reply, then one or two follow-ups answered in character.

A share of the corpus's pairs (`CorpusSpec.conversations`) go on after their first reply, as members
carry on with the bot's colleague (the Follow up button, or a reply that mentions it): what it would
cost, when it could start, what could go wrong, what it needs from them. The record is a pair whose
`history` holds the turns before its request (the first request and reply, and a first follow-up with
its answer if there are two), so the writer learns to answer the newest turn in the same voice, from
the same trade, keeping to what it said before (its plan's first step, the skill asked about).

Like `compose.py`, every choice draws from the `random.Random` passed in, so a seed fixes the corpus.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from faker import Faker

from implementor.contracts.jobs import Turn
from implementor.contracts.records import PairRecord
from implementor.training.corpus.compose import WEEKDAYS, Context, a_or_an, compose_pair, in_prose
from implementor.training.corpus.esco import Skill

Answer = Callable[[random.Random, "Facts"], tuple[str, str]]  # -> (the member's follow-up, the colleague's answer)


class Facts:
    """What a conversation's follow-ups may draw on: the work asked about and the colleague's own trade."""

    def __init__(self, record: PairRecord, skill: Skill, related: tuple[Skill, ...]) -> None:
        assert record.persona is not None, "a corpus pair always has its colleague"
        self.task = skill.label
        self.first = (related or (skill,))[0].label
        self.title = a_or_an(in_prose(record.persona.title))
        self.own = record.persona.skills[0] if record.persona.skills else skill.label


def _pick(rng: random.Random, options: tuple[str, ...]) -> str:
    return options[rng.randrange(len(options))]


def _cost(rng: random.Random, f: Facts) -> tuple[str, str]:
    days, first = rng.randint(4, 25), rng.randint(1, 3)
    ask = _pick(rng, ("What would that cost, roughly?", "How long would that take you?",
                      "Roughly how much of your time would it need?"))
    return ask, _pick(rng, (
        f"I would plan about {days} days: {first} to {f.first}, and the rest to {f.task}. Once I have seen what "
        "you have so far, I can put a fixed price in writing.",
        f"Around {days} working days. The first {first} go on making sure we {f.first}; the rest is the work "
        "itself. I'd rather quote after a short look at the details than guess.",
    ))


def _start(rng: random.Random, f: Facts) -> tuple[str, str]:
    day = _pick(rng, WEEKDAYS)
    ask = _pick(rng, (f"Could you start on {day}?", f"Are you free to begin on {day}?", f"Can you start {day}?"))
    return ask, _pick(rng, (
        f"{day} works for me. I would spend the first morning making sure we {f.first}, so that we can {f.task} "
        "later in the week.",
        f"Not {day}, I'm afraid, but the {_pick(rng, WEEKDAYS)} after that is free. Meanwhile, if you send me what "
        f"you have, I can check whether we {f.first} already.",
    ))


def _risk(rng: random.Random, f: Facts) -> tuple[str, str]:
    ask = _pick(rng, ("What is the biggest risk you see?", "What could go wrong with this?",
                      "Anything that worries you about it?"))
    return ask, _pick(rng, (
        f"The main risk is trying to {f.task} before we {f.first}. As {f.title} I have seen that slow a job down "
        "more than once, so I would check it first.",
        f"Mostly time: if we cannot {f.first} early, everything after it moves. I would raise that in the first "
        "week rather than at the end.",
    ))


def _needs(rng: random.Random, f: Facts) -> tuple[str, str]:
    ask = _pick(rng, ("Do you need anything from us first?", "What should we prepare before you start?",
                      "Would you need anyone else on it?"))
    return ask, _pick(rng, (
        f"Just the current plans and one person who can answer questions. The rest I can do myself: as "
        f"{f.title} I {f.own} every week.",
        f"A short call with whoever owns it, and access to what exists so far. I would start by checking that we "
        f"{f.first}.",
    ))


FOLLOW_UPS: tuple[Answer, ...] = (_cost, _start, _risk, _needs)


def compose_conversation(rng: random.Random, fake: Faker, skill: Skill, related: tuple[Skill, ...], ctx: Context,
                         near: bool = True, follow_ups: int | None = None) -> PairRecord:
    """A pair (as `compose_pair` makes it) carried on by one or two follow-ups; the last is the record's
    request and reply, and the turns before it its `history`."""
    first = compose_pair(rng, fake, skill, related, ctx, near)
    facts = Facts(first, skill, related)
    turns = [Turn(role="member", text=first.request), Turn(role="colleague", text=first.reply)]
    for answer in rng.sample(FOLLOW_UPS, follow_ups or rng.randint(1, 2)):
        asked, said = answer(rng, facts)
        turns += [Turn(role="member", text=asked), Turn(role="colleague", text=said)]
    *history, (last_ask, last_answer) = [(turns[i], turns[i + 1]) for i in range(0, len(turns), 2)]
    return first.model_copy(update={"request": last_ask.text, "reply": last_answer.text,
                                    "history": tuple(t for pair in history for t in pair)})
