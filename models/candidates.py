"""Drafting candidates with the writer: one prefill, n samples, cleaned and distinct.

`generate_candidates` runs the prompt through the model once, repeats the resulting key/value cache
n times, and samples the n continuations together, one batched forward pass per new token. The
naive way (n separate `generate` calls) pays for the prompt n times and runs n batches of one;
`bench/text_generation.py` measures the difference.

Each draft is then cleaned: cut at the end token, trimmed to a sentence boundary if it ran out of
tokens, and stripped of anything that could ping people on Discord.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

import torch

from config.errors import InputError
from config.text_safety import neutralise_mentions
from models.text_format import cv_prompt, reply_prompt
from models.writer import SamplingSettings, Writer

log = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 20_000  # far beyond any context; refuse before tokenising megabytes
MAX_CANDIDATES = 64
PRUNE_SHARE = 4  # finished rows leave the batch once they are a quarter of it (each pruning copies the cache)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")


def trim_to_sentence(text: str) -> str:
    """Cut a draft that ran out of tokens after its last full sentence (or complete line)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]].rstrip() if ends else text.rstrip()


def clean(text: str, finished: bool) -> str:
    text = neutralise_mentions(text)
    text = text if finished else trim_to_sentence(text)
    return re.sub(r"[ \t]+\n", "\n", text).strip()


def _filter_logits(logits: torch.Tensor, settings: SamplingSettings) -> torch.Tensor:
    """Temperature, then top-k, then top-p (nucleus) on (B, V) logits."""
    logits = logits / settings.temperature
    if 0 < settings.top_k < logits.shape[-1]:
        kth = torch.topk(logits, settings.top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if settings.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        drop = cumulative - sorted_logits.softmax(-1) > settings.top_p  # keep the token that crosses p
        logits = logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    return logits


@torch.inference_mode()
def sample_many(writer: Writer, prompts: list[list[int]], n: int, settings: SamplingSettings,
                generator: torch.Generator, min_new_tokens: int = 0) -> list[tuple[list[list[int]], list[bool]]]:
    """n continuations of each prompt: one batched prefill, then one batched step per new token.

    Prompts of different lengths are padded on the left, with an attention mask and position ids
    that make each row see exactly its own prompt. Returns, per prompt, the token ids of its n
    continuations and whether each ended with the end token. `min_new_tokens` forbids the end
    token until that many tokens exist (benchmarks use it to make every path write the same length).
    """
    model, eos, device = writer.model, writer.eos_id, writer.device
    width = max(map(len, prompts))
    ids = torch.full((len(prompts), width), eos, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, prompt in enumerate(prompts):
        ids[i, width - len(prompt) :] = torch.tensor(prompt)
        mask[i, width - len(prompt) :] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)  # (P, T): a row's first real token is position 0
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
    cache = out.past_key_values
    cache.batch_repeat_interleave(n)  # (P, H, T, D) -> (P*n, H, T, D) per layer, in place
    rows = len(prompts) * n
    logits = out.logits[:, -1, :].float().repeat_interleave(n, dim=0)  # (P*n, V)
    mask = mask.repeat_interleave(n, dim=0)  # (P*n, T)
    position = positions[:, -1].repeat_interleave(n) + 1  # (P*n,)
    written = torch.full((rows, settings.max_new_tokens), eos, dtype=torch.long, device=device)
    active = torch.arange(rows, device=device)  # the rows still writing, as indices into `written`
    finished = torch.zeros(rows, dtype=torch.bool, device=device)  # per active row
    for step in range(settings.max_new_tokens):
        if step < min_new_tokens:
            logits[:, eos] = float("-inf")
        probs = _filter_logits(logits, settings).softmax(-1)
        token = torch.multinomial(probs, 1, generator=generator).squeeze(1)  # (active,)
        token = torch.where(finished, torch.full_like(token, eos), token)
        written[active, step] = token
        finished |= token == eos
        if bool(finished.all()) or step == settings.max_new_tokens - 1:
            written = written[:, : step + 1]
            break  # no forward pass for logits nobody will sample from
        if int(finished.sum()) * PRUNE_SHARE >= len(active):
            # Drop the finished rows from the batch (and their KV cache), so that a batch of many
            # requests costs what its drafts' own lengths cost, not the longest draft's times their number.
            keep = (~finished).nonzero().squeeze(1)
            cache.batch_select_indices(keep)
            active, token, mask, position = active[keep], token[keep], mask[keep], position[keep]
            finished = finished[keep]
        mask = torch.cat([mask, torch.ones(len(active), 1, dtype=mask.dtype, device=device)], dim=1)
        out = model(input_ids=token[:, None], attention_mask=mask, position_ids=position[:, None],
                    past_key_values=cache, use_cache=True)
        cache, logits, position = out.past_key_values, out.logits[:, -1, :].float(), position + 1
    tokens = written.tolist()  # (P*n, steps)
    cut = [row[: row.index(eos)] if eos in row else row for row in tokens]
    ended = [eos in row for row in tokens]
    return [(cut[i * n : (i + 1) * n], ended[i * n : (i + 1) * n]) for i in range(len(prompts))]


def sample_batched(writer: Writer, prompt_ids: list[int], n: int, settings: SamplingSettings,
                   generator: torch.Generator, min_new_tokens: int = 0) -> tuple[list[list[int]], list[bool]]:
    """n continuations of one prompt from a single prefill (see `sample_many`)."""
    return sample_many(writer, [prompt_ids], n, settings, generator, min_new_tokens)[0]


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
        ids = ids[:1] + ids[len(ids) - budget + 1 :]  # the first token is the task's control token
    return ids


def generate_many(writer: Writer, prompts: list[str], n: int, settings: SamplingSettings,
                  seed: int | None = None, max_rounds: int = 4) -> list[list[str]]:
    """n distinct, cleaned drafts for each prompt (full model prompts with control tokens), in batches.

    All prompts are drafted together (see `sample_many`), which is how a worker batches jobs that
    arrive together. Duplicates are dropped and more drafts sampled for the prompts that need them,
    up to `max_rounds` rounds; a model that keeps repeating itself yields fewer than n, with a
    warning, rather than looping.
    """
    if not 1 <= n <= MAX_CANDIDATES:
        raise InputError(f"n must be between 1 and {MAX_CANDIDATES}, got {n}")
    if not prompts:
        raise InputError("there are no prompts to draft for")
    ids = [fit_prompt(writer, prompt, settings) for prompt in prompts]
    generator = torch.Generator(device=writer.device)
    generator.manual_seed(seed if seed is not None else int(torch.randint(0, 2**62, (1,)).item()))
    drafts: list[list[str]] = [[] for _ in prompts]
    seen: list[set[str]] = [set() for _ in prompts]
    for _ in range(max_rounds):
        short = [i for i in range(len(prompts)) if len(drafts[i]) < n]
        if not short:
            break
        missing = max(n - len(drafts[i]) for i in short)
        for i, (rows, ended) in zip(short, sample_many(writer, [ids[i] for i in short], missing, settings,
                                                       generator), strict=True):
            for row, finished in zip(rows, ended, strict=True):
                text = clean(writer.tokenizer.decode(row, skip_special_tokens=True), finished)
                key = " ".join(text.lower().split())
                if text and key not in seen[i] and len(drafts[i]) < n:
                    seen[i].add(key)
                    drafts[i].append(text)
    if any(len(d) < n for d in drafts):
        log.warning("only %s distinct drafts of %d asked for", [len(d) for d in drafts], n)
    return drafts


def generate_candidates(writer: Writer, prompt: str, n: int, settings: SamplingSettings,
                        seed: int | None = None, max_rounds: int = 4) -> list[str]:
    """n distinct, cleaned drafts continuing one prompt (see `generate_many`)."""
    return generate_many(writer, [prompt], n, settings, seed, max_rounds)[0]


def _required(value: str, what: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise InputError(f"{what} is empty")
    return value


def draft_cv(writer: Writer, name: str, title: str, n: int = 1, seed: int | None = None,
             settings: SamplingSettings | None = None) -> list[str]:
    """CV bodies (Markdown sections) for a named colleague with a job title."""
    prompt = cv_prompt(_required(name, "the name"), _required(title, "the title"))
    return generate_candidates(writer, prompt, n, settings or writer.sampling.cv, seed)


def draft_replies(writer: Writer, request: str, n: int = 1, seed: int | None = None,
                  settings: SamplingSettings | None = None) -> list[str]:
    """Replies to a colleague's project request."""
    prompt = reply_prompt(_required(request, "the request"))
    return generate_candidates(writer, prompt, n, settings or writer.sampling.reply, seed)


def with_overrides(settings: SamplingSettings, **changes: Any) -> SamplingSettings:
    """Settings with the non-None changes applied (command-line overrides)."""
    try:
        return replace(settings, **{k: v for k, v in changes.items() if v is not None})
    except ValueError as exc:
        raise InputError(str(exc)) from None
