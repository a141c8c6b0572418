"""Sampling from the writer in PyTorch: one prefill for many drafts, then one batched step per token.

`sample_many` runs every prompt through the model once, repeats each prompt's key/value cache n
times, and samples all the continuations together, one batched forward pass per new token; rows
that finish leave the batch. The naive way (n separate `generate` calls) pays for the prompt n
times and runs n batches of one; `bench/text_generation.py` measures the difference. Turning token
ids into clean drafts is `drafts.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from implementor.models.writer.model import SamplingSettings, Writer
from implementor.models.writer.pruning import Prune
from implementor.models.writer.repetition import Repetition

PRUNE_SHARE = 4  # finished rows leave the batch once they are a quarter of it (each pruning copies the cache)
Progress = Callable[[float], None]  # the share of a call's token budget spent, after each decoding step


def budget_spent(rows: int, unfinished: int, written: int, max_new_tokens: int) -> float:
    """The share of `rows` drafts' token budget spent after `written` steps with `unfinished` rows still
    writing: a finished draft counts as spent in full, so the share only grows, and is 1 at the end."""
    return 1.0 - unfinished * (max_new_tokens - written) / (rows * max_new_tokens)


def _top_p(sorted_logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Nucleus filtering of logits sorted in descending order: keep the tokens up to the one that crosses p."""
    if top_p >= 1.0:
        return sorted_logits
    probs = sorted_logits.softmax(-1)
    drop = probs.cumsum(-1) - probs > top_p
    return sorted_logits.masked_fill(drop, float("-inf"))


def pick(logits: torch.Tensor, repetition: Repetition, settings: SamplingSettings, generator: torch.Generator,
         eos: int, forbid_end: bool) -> torch.Tensor:
    """The next token of every row (B,) from its (B, V) logits: repetition control, temperature, top-k,
    then top-p. Every engine that samples for itself (PyTorch, llama.cpp) picks its tokens here.

    With top-k on, only the k best tokens of each row are sorted and sampled from (the same
    distribution as masking the rest, at a fraction of the cost of sorting the whole vocabulary)."""
    logits = repetition.apply(logits)
    if forbid_end:
        logits[:, eos] = float("-inf")
    logits = logits / settings.temperature
    if 0 < settings.top_k < logits.shape[-1]:
        values, index = torch.topk(logits, settings.top_k, dim=-1)  # sorted, best first
        choice = torch.multinomial(_top_p(values, settings.top_p).softmax(-1), 1, generator=generator)
        return index.gather(1, choice).squeeze(1)
    if settings.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        logits = torch.empty_like(logits).scatter_(-1, order, _top_p(sorted_logits, settings.top_p))
    return torch.multinomial(logits.softmax(-1), 1, generator=generator).squeeze(1)


def pick_array(logits: np.ndarray, repetition: Repetition, settings: SamplingSettings, generator: torch.Generator,
               eos: int, forbid_end: bool) -> list[int]:
    """`pick` for (B, V) logits in a numpy array (llama.cpp's), drawing the same tokens from the same seed.

    The work over the whole vocabulary (repetition control, the end token, finding each row's k best)
    runs in numpy on the calling thread; only the (B, k) best reach torch, too few to wake its thread
    pool. Between two `llama_decode` calls, torch's pool would wake for every 49k-wide operation and its
    threads would then spin on the cores llama.cpp's own threads need for the next step.
    The logits are changed in place. Without top-k, `pick` does the work in torch."""
    if not 0 < settings.top_k < logits.shape[-1]:
        return pick(torch.from_numpy(logits), repetition, settings, generator, eos, forbid_end).tolist()
    logits = repetition.apply_array(logits)
    if forbid_end:
        logits[:, eos] = -np.inf
    k = settings.top_k
    index = np.argpartition(logits, logits.shape[-1] - k, axis=-1)[:, -k:]  # the k best, in no order
    values = np.take_along_axis(logits, index, axis=-1)
    order = np.argsort(-values, axis=-1, kind="stable")  # best first, as torch.topk gives them
    index, values = np.take_along_axis(index, order, axis=-1), np.take_along_axis(values, order, axis=-1)
    scaled = torch.from_numpy(values) / settings.temperature
    choice = torch.multinomial(_top_p(scaled, settings.top_p).softmax(-1), 1, generator=generator)
    return np.take_along_axis(index, choice.numpy(), axis=-1)[:, 0].tolist()


class StopWhen:
    """Ends a draft once its complete lines meet `done` (a CV's heading out of order: `implementor.contracts.cv`),
    checked only after a token that ends a line; engines that sample for themselves stop such a row
    at once, and the draft is cut at that point as it is cleaned (`drafts.py`). It carries the task's
    `prune`, if any (see `Prune`)."""

    def __init__(self, writer: Writer, done: Callable[[str], bool], prune: Prune | None = None) -> None:
        self.decode, self.done, self.line_ends = writer.tokenizer.decode, done, writer.line_ends
        self.prune = prune

    def lines(self, ids: list[int]) -> str | None:
        """The complete lines of a draft that has just ended a line, else None."""
        if not ids or ids[-1] not in self.line_ends:
            return None
        text = self.decode(ids, skip_special_tokens=True)
        return text[: text.rfind("\n")]

    def __call__(self, ids: list[int]) -> bool:
        lines = self.lines(ids)
        return lines is not None and self.done(lines)


def _prefill(writer: Writer, prompts: list[list[int]], n: int) -> tuple[Any, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run the prompts once (left-padded), and repeat each one's cache for its n rows.

    Returns the cache, the next-token logits (P*n, V), the attention mask (P*n, T) and the next
    position of every row (P*n,): each row sees exactly its own prompt.
    """
    eos, device = writer.eos_id, writer.device
    width = max(map(len, prompts))
    ids = torch.full((len(prompts), width), eos, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, prompt in enumerate(prompts):
        ids[i, width - len(prompt) :] = torch.tensor(prompt)
        mask[i, width - len(prompt) :] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)  # (P, T): a row's first real token is position 0
    out = writer.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
    cache = out.past_key_values
    cache.batch_repeat_interleave(n)  # (P, H, T, D) -> (P*n, H, T, D) per layer, in place
    logits = out.logits[:, -1, :].float().repeat_interleave(n, dim=0)  # (P*n, V)
    return cache, logits, mask.repeat_interleave(n, dim=0), positions[:, -1].repeat_interleave(n) + 1


@torch.inference_mode()
def sample_many(writer: Writer, prompts: list[list[int]], n: int, settings: SamplingSettings,
                generator: torch.Generator, min_new_tokens: int = 0, stop: StopWhen | None = None,
                progress: Progress | None = None) -> list[tuple[list[list[int]], list[bool]]]:
    """n continuations of each prompt: one batched prefill, then one batched step per new token.

    Prompts of different lengths are padded on the left, with an attention mask and position ids
    that make each row see exactly its own prompt. Returns, per prompt, the token ids of its n
    continuations and whether each ended with the end token. `min_new_tokens` forbids the end
    token until that many tokens exist (benchmarks use it to make every path write the same length).
    A row that `stop` ends counts as ended. `progress` hears the share of the budget spent after each step.
    """
    model, eos, device = writer.model, writer.eos_id, writer.device
    cache, logits, mask, position = _prefill(writer, prompts, n)
    rows = len(prompts) * n
    written = torch.full((rows, settings.max_new_tokens), eos, dtype=torch.long, device=device)
    active = torch.arange(rows, device=device)  # the rows still writing, as indices into `written`
    finished = torch.zeros(rows, dtype=torch.bool, device=device)  # per active row
    repetition = Repetition(rows, logits.shape[-1], settings.repetition_penalty, settings.no_repeat_ngram_size,
                            device)
    stopped: set[int] = set()  # rows that `stop` ended (no end token to show it)
    for step in range(settings.max_new_tokens):
        token = pick(logits, repetition, settings, generator, eos, step < min_new_tokens)
        token = torch.where(finished, torch.full_like(token, eos), token)
        written[active, step] = token
        repetition.record(token)
        finished |= token == eos
        if stop is not None:
            for i, last in enumerate(token.tolist()):
                if last in stop.line_ends and not finished[i] and stop(written[active[i], : step + 1].tolist()):
                    finished[i] = True
                    stopped.add(int(active[i]))
        if bool(finished.all()) or step == settings.max_new_tokens - 1:
            written = written[:, : step + 1]
            break  # no forward pass for logits nobody will sample from
        done = int(finished.sum())  # (the one sync the pruning needs anyway)
        if progress is not None:
            progress(budget_spent(rows, len(active) - done, step + 1, settings.max_new_tokens))
        if done * PRUNE_SHARE >= len(active):
            # Drop the finished rows from the batch (and their KV cache), so that a batch of many
            # requests costs what its drafts' own lengths cost, not the longest draft's times their number.
            keep = (~finished).nonzero().squeeze(1)
            cache.batch_select_indices(keep)
            repetition.keep(keep)
            active, token, mask, position = active[keep], token[keep], mask[keep], position[keep]
            finished = finished[keep]
        mask = torch.cat([mask, torch.ones(len(active), 1, dtype=mask.dtype, device=device)], dim=1)
        out = model(input_ids=token[:, None], attention_mask=mask, position_ids=position[:, None],
                    past_key_values=cache, use_cache=True)
        cache, logits, position = out.past_key_values, out.logits[:, -1, :].float(), position + 1
    return _per_prompt(written.tolist(), stopped, eos, n, len(prompts))


def _per_prompt(tokens: list[list[int]], stopped: set[int], eos: int, n: int, prompts: int
                ) -> list[tuple[list[list[int]], list[bool]]]:
    """(P*n, steps) written token ids as each prompt's n drafts, cut at the end token, and whether each ended."""
    cut = [row[: row.index(eos)] if eos in row else row for row in tokens]
    ended = [eos in row or i in stopped for i, row in enumerate(tokens)]
    return [(cut[i * n : (i + 1) * n], ended[i * n : (i + 1) * n]) for i in range(prompts)]


def sample_batched(writer: Writer, prompt_ids: list[int], n: int, settings: SamplingSettings,
                   generator: torch.Generator, min_new_tokens: int = 0) -> tuple[list[list[int]], list[bool]]:
    """n continuations of one prompt from a single prefill (see `sample_many`)."""
    return sample_many(writer, [prompt_ids], n, settings, generator, min_new_tokens)[0]
