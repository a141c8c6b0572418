"""Drafts from the writer: prompts fitted to its context, sampled together, cleaned and distinct.

`generate_many` drafts for several prompts at once (one prefill each, see `sampling.py`), which is
how a worker batches jobs that arrive together. Each draft is then cleaned: cut at the end token,
trimmed to a sentence boundary if it ran out of tokens, and stripped of anything that could ping
people on Discord. Duplicates are dropped and more drafts sampled for the prompts that need them.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from implementor.contracts.cv import cut_at_stray_heading, drop_repeated_bullets, parse_cv, stray_heading
from implementor.contracts.cv_facts import mend, problems, without_repeats
from implementor.contracts.errors import InputError
from implementor.contracts.grounding import grounded_only, ungrounded
from implementor.contracts.persona import Persona
from implementor.contracts.text_safety import neutralise_mentions
from implementor.models.writer.engine import Engine
from implementor.models.writer.model import SamplingSettings, Writer
from implementor.models.writer.pruning import Prune
from implementor.models.writer.sampling import StopWhen
from implementor.models.writer.torch_engine import TorchEngine

log = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 20_000  # far beyond any context; refuse before tokenising megabytes
MAX_CANDIDATES = 64
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")


def trim_to_sentence(text: str) -> str:
    """Cut a draft that ran out of tokens after its last full sentence (or complete line)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]].rstrip() if ends else text.rstrip()


def clean(text: str, finished: bool) -> str:
    text = drop_repeated_bullets(neutralise_mentions(text))
    text = text if finished else trim_to_sentence(text)
    return re.sub(r"[ \t]+\n", "\n", text).strip()


def fit_prompt(writer: Writer, prompt: str, settings: SamplingSettings) -> list[int]:
    """Token ids of the prompt, cut from the left (after its control token) to leave room to write."""
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InputError(f"the prompt is {len(prompt):,} characters; the limit is {MAX_PROMPT_CHARS:,}")
    ids = writer.tokenizer(prompt)["input_ids"]
    budget = writer.context - settings.max_new_tokens
    if budget < 8:
        raise InputError(f"max_new_tokens={settings.max_new_tokens} leaves no room for a prompt "
                         f"in a context of {writer.context} tokens")
    if len(ids) > budget:
        log.warning("prompt is %d tokens; keeping its last %d so that %d can be generated",
                    len(ids), budget, settings.max_new_tokens)
        head = writer.format.keep_head  # the task's control token, or the instruction's system turn
        ids = ids[:head] + ids[len(ids) - budget + head :]
    return ids


@dataclass(frozen=True)
class Rules:
    """What a task's drafts must be: where a draft has gone past its end (`stop`, on its complete lines;
    the engine stops it there and `cut` trims it back), what an editor fixes in every draft without asking
    (`mend`), what it must be to be a candidate (`accept`), and what is left of a refused draft when no
    draft of a prompt passes (`repair`: the part that breaks no rule; empty when nothing is left)."""

    stop: Callable[[str], bool] | None = None
    cut: Callable[[str], str] | None = None
    accept: Callable[[str], bool] | None = None
    mend: Callable[[str], str] | None = None
    repair: Callable[[str], str] | None = None


def _cv_year() -> int:
    return datetime.date.today().year


# A CV: stopped and cut at the first heading out of the four sections' order; its Profile's years restated
# from its roles and its repeats left out (`cv_facts.mend`); a candidate if it parses and its facts add up.
CV_RULES = Rules(stop=lambda text: stray_heading(text) is not None, cut=cut_at_stray_heading,
                 mend=lambda text: mend(text, _cv_year()),
                 accept=lambda text: parse_cv(text) is not None and not problems(text, _cv_year()))


def reply_rules(request: str, persona: Persona | None) -> Rules:
    """A reply to `request` by `persona`: nothing said twice; and, from a colleague with a CV, it names no
    employer, client, place, degree or year that neither that CV nor the request gives
    (`contracts/grounding.py`); if no draft manages that, the best is posted without its ungrounded
    sentences. A reply from nobody in particular (no persona, or one without roles) has no story to keep."""
    if persona is None or not persona.roles:
        return Rules(mend=without_repeats)
    known = persona.known_text()
    return Rules(mend=without_repeats, accept=lambda text: not ungrounded(text, known, request),
                 repair=lambda text: grounded_only(text, known, request))


def _text(writer: Writer, row: list[int], finished: bool, rules: Rules) -> str:
    return tidy(writer.tokenizer.decode(row, skip_special_tokens=True), finished, rules)


def tidy(text: str, finished: bool, rules: Rules) -> str:
    """A draft's text as it is offered: cut where its rules stop it, cleaned, mended (`finished`: it
    ended by itself, rather than running out of tokens)."""
    if rules.cut is not None:
        kept = rules.cut(text)
        text, finished = kept, finished or kept != text  # cut at a section's end: nothing to trim
    text = clean(text, finished)
    return rules.mend(text).strip() if rules.mend is not None and text else text


def _wanted(goal: int, seen: list[set[str]], drafts: list[list[str]], each: list[Rules]) -> dict[int, int]:
    """How many more drafts each prompt that needs any gets: what it lacks of `goal` distinct drafts, or,
    with enough drafts but none its rules accept, half as many again."""
    return {i: goal - len(seen[i]) if len(seen[i]) < goal else max(1, goal // 2) for i in range(len(seen))
            if len(seen[i]) < goal or (each[i].accept is not None and not drafts[i])}


def _goal(n: int, prune: Prune | None) -> int:
    """Distinct drafts a prompt needs: n; with a prune, its `keep`; one, if they go on one at a time
    (`Prune.enough`)."""
    return n if prune is None else 1 if prune.enough is not None else min(n, prune.keep)


def _never(_text: str) -> bool:
    return False


def _fallback(rules: Rules, refused: list[str], n: int) -> list[str]:
    """What a prompt none of whose drafts passed gets: its refused drafts, repaired where the rules can."""
    if rules.repair is None:
        return refused[:n]
    repaired = [text for text in (rules.repair(r) for r in refused) if text]
    return (repaired or refused)[:n]


def generate_many(writer: Writer, prompts: list[str], n: int, settings: SamplingSettings,
                  seed: int | None = None, max_rounds: int = 4, engine: Engine | None = None,
                  rules: Rules | Sequence[Rules] = Rules(),
                  progress: Callable[[float], None] | None = None, prune: Prune | None = None) -> list[list[str]]:
    """n distinct, cleaned drafts for each prompt (full model prompts with control tokens), in batches.

    All prompts are drafted together by the engine (PyTorch unless one is given), which is how a
    worker batches jobs that arrive together. Duplicates are dropped and more drafts sampled for the
    prompts that need them, up to `max_rounds` rounds; a model that keeps repeating itself yields
    fewer than n, with a warning, rather than looping. The task's `rules` (one for all prompts, or one
    per prompt: a reply's depend on its colleague) stop, cut and mend drafts; drafts that `accept`
    refuses are dropped, and a prompt none of whose drafts it accepts is drafted again; only if every
    round fails are the refused drafts returned, repaired where the rules can (the reranker then says
    so). `progress` hears how far the first round is, 0..1, as the engine decodes (the later rounds, a
    few drafts again, are not followed). Every prompt's rules share the first one's `stop`. With `prune`
    (`pruning.Prune`), fewer drafts a prompt are enough (`_goal`), and llama.cpp ends the others early.
    """
    if not 1 <= n <= MAX_CANDIDATES:
        raise InputError(f"n must be between 1 and {MAX_CANDIDATES}, got {n}")
    if not prompts:
        raise InputError("there are no prompts to draft for")
    each = [rules] * len(prompts) if isinstance(rules, Rules) else list(rules)
    ids = [fit_prompt(writer, prompt, settings) for prompt in prompts]
    engine = engine or TorchEngine(writer)
    stop = StopWhen(writer, each[0].stop or _never, prune) if each[0].stop is not None or prune else None
    goal = _goal(n, prune)
    drafts, refused = [[] for _ in prompts], [[] for _ in prompts]  # type: list[list[str]], list[list[str]]
    seen: list[set[str]] = [set() for _ in prompts]
    for round_ in range(max_rounds):
        if not (want := _wanted(goal, seen, drafts, each)):
            break
        round_seed = None if seed is None else seed + round_
        width = n if round_ == 0 else max(want.values())  # the first round drafts n, pruned or not
        samples = engine.sample([ids[i] for i in want], width, settings, round_seed, stop=stop,
                                progress=progress if round_ == 0 else None)
        for i, (rows, ended) in zip(want, samples, strict=True):
            for row, finished in zip(rows, ended, strict=True):
                text = _text(writer, row, finished, each[i])
                key = " ".join(text.lower().split())
                if not text or key in seen[i] or len(drafts[i]) >= n:
                    continue
                seen[i].add(key)
                accept = each[i].accept
                (drafts[i] if accept is None or accept(text) else refused[i]).append(text)
    if any(not d for d in drafts):
        log.warning("no draft of %d prompt(s) met the rules after %d rounds", sum(not d for d in drafts), max_rounds)
    drafts = [d or _fallback(r, bad, n) for d, r, bad in zip(drafts, each, refused, strict=True)]
    if all(r.accept is None for r in each) and any(len(d) < goal for d in drafts):
        log.warning("only %s distinct drafts of %d asked for", [len(d) for d in drafts], n)
    return drafts


def generate_candidates(writer: Writer, prompt: str, n: int, settings: SamplingSettings,
                        seed: int | None = None, max_rounds: int = 4, engine: Engine | None = None,
                        rules: Rules = Rules()) -> list[str]:
    """n distinct, cleaned drafts continuing one prompt (see `generate_many`)."""
    return generate_many(writer, [prompt], n, settings, seed, max_rounds, engine, rules)[0]


def _required(value: str, what: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise InputError(f"{what} is empty")
    return value


def draft_cv(writer: Writer, name: str, title: str, n: int = 1, seed: int | None = None,
             settings: SamplingSettings | None = None, engine: Engine | None = None) -> list[str]:
    """CV bodies (Markdown sections) for a named colleague with a job title."""
    prompt = writer.format.cv(_required(name, "the name"), _required(title, "the title"))
    return generate_candidates(writer, prompt, n, settings or writer.sampling.cv, seed, engine=engine, rules=CV_RULES)


def reply_prompt_for(writer: Writer, request: str, persona: Persona | None = None) -> str:
    """The reply prompt, with the persona if the writer was trained to read one."""
    return writer.format.reply(_required(request, "the request"), persona)


def draft_replies(writer: Writer, request: str, n: int = 1, seed: int | None = None,
                  settings: SamplingSettings | None = None, persona: Persona | None = None,
                  engine: Engine | None = None) -> list[str]:
    """Replies to a colleague's project request, in the voice of `persona` if given."""
    prompt = reply_prompt_for(writer, request, persona)
    return generate_candidates(writer, prompt, n, settings or writer.sampling.reply, seed, engine=engine,
                               rules=reply_rules(request, persona))


def with_overrides(settings: SamplingSettings, **changes: Any) -> SamplingSettings:
    """Settings with the non-None changes applied (command-line overrides)."""
    try:
        return replace(settings, **{k: v for k, v in changes.items() if v is not None})
    except ValueError as exc:
        raise InputError(str(exc)) from None
