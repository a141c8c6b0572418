"""A follow-up's prompt: the conversation so far, fitted to the writer's context, oldest turns dropped first.

A follow-up job carries the turns before its request (`contracts.jobs.Turn`: the member's first
request, the colleague's answer, ...). The prompt holds as many of them as fit the writer's budget
(its context less the tokens it is to write, as `drafts.fit_prompt` counts it), in tokens: the
oldest request and its answer go first, together, so that what is left still opens with a member's
turn and alternates. The newest request is always kept whole; if it alone is too long for the
context, `fit_prompt` cuts what precedes it, as it does for any prompt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from implementor.contracts.errors import InputError
from implementor.contracts.jobs import Turn
from implementor.contracts.persona import Persona
from implementor.models.writer.model import SamplingSettings, Writer

log = logging.getLogger(__name__)
TokenCount = Callable[[str, Persona | None, Sequence[Turn]], int]  # a reply prompt's length in tokens


def prompt_budget(writer: Writer, settings: SamplingSettings) -> int:
    """The tokens a prompt may take: the context less what the writer is to write."""
    return writer.context - settings.max_new_tokens


def fitted_turns(tokens: TokenCount, request: str, persona: Persona | None, history: Sequence[Turn],
                 budget: int) -> tuple[Turn, ...]:
    """The newest turns of `history` whose prompt fits `budget` tokens, dropped a request and its answer
    at a time from the oldest (`tokens` counts a prompt's tokens)."""
    kept = tuple(history)
    while kept and tokens(request, persona, kept) > budget:
        kept = kept[2:]
    return kept


def token_count(writer: Writer) -> TokenCount:
    """How many tokens the writer's reply prompt takes, for a request, a colleague and earlier turns."""

    def count(request: str, persona: Persona | None, history: Sequence[Turn]) -> int:
        return len(writer.tokenizer(writer.format.reply(request, persona, history))["input_ids"])

    return count


def conversation_prompt(writer: Writer, request: str, persona: Persona | None, history: Sequence[Turn],
                        settings: SamplingSettings) -> str:
    """The reply prompt for `request` after `history`, holding the newest turns that fit the budget."""
    request = request.strip()
    if not request:
        raise InputError("the request is empty")
    kept = fitted_turns(token_count(writer), request, persona, history, prompt_budget(writer, settings))
    if len(kept) < len(history):
        log.info("a follow-up's prompt keeps its last %d of %d earlier turns to fit %d tokens",
                 len(kept), len(history), prompt_budget(writer, settings))
    return writer.format.reply(request, persona, kept)
