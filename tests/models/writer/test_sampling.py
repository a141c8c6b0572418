"""Sampling in PyTorch: one prefill, batched steps, rows leaving the batch, parity with generate."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from implementor.models.writer.model import SamplingSettings, Writer
from implementor.models.writer.prompts import reply_prompt
from implementor.models.writer.sampling import sample_batched, sample_many

REQUEST = "Hi all, we need someone to plan a marketing strategy for the launch at Fairweather Ltd."


@pytest.fixture(scope="module")
def writer(tiny_writer_dir: Path) -> Writer:
    return Writer.load(tiny_writer_dir, "cpu")


def test_greedy_batched_sampling_matches_transformers_generate(writer: Writer) -> None:
    """Parity with the reference: with top-k 1, every row must be the greedy continuation."""
    ids = writer.tokenizer(reply_prompt(REQUEST))["input_ids"]
    settings = SamplingSettings(top_k=1, max_new_tokens=24)
    rows, _ = sample_batched(writer, ids, 3, settings, torch.Generator().manual_seed(0))
    prompt = torch.tensor([ids])
    with torch.inference_mode():
        reference = writer.model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                                          max_new_tokens=24, pad_token_id=writer.eos_id)[0, len(ids):].tolist()
    reference = reference[: reference.index(writer.eos_id)] if writer.eos_id in reference else reference
    assert rows == [reference] * 3

def test_the_prompt_is_prefilled_once(writer: Writer) -> None:
    lengths: list[tuple[int, int]] = []

    def record(_module, args, kwargs):  # type: ignore[no-untyped-def]
        lengths.append(tuple(kwargs["input_ids"].shape))

    handle = writer.model.register_forward_pre_hook(record, with_kwargs=True)
    try:
        ids = writer.tokenizer(reply_prompt(REQUEST))["input_ids"]
        sample_batched(writer, ids, 8, SamplingSettings(max_new_tokens=10), torch.Generator().manual_seed(1),
                       min_new_tokens=10)
    finally:
        handle.remove()
    assert lengths[0] == (1, len(ids))  # one prefill, batch of one
    assert lengths[1:] == [(8, 1)] * 9  # then one batched step per new token

def test_prompts_of_different_lengths_batch_like_they_run_alone(writer: Writer) -> None:
    """Left padding with a mask and position ids: each row continues exactly as it would alone."""
    from implementor.models.writer.sampling import sample_many

    short = writer.tokenizer(reply_prompt("Help with an audit?"))["input_ids"]
    long = writer.tokenizer(reply_prompt(REQUEST + " We have four weeks and a tight budget."))["input_ids"]
    greedy = SamplingSettings(top_k=1, max_new_tokens=20)
    together = sample_many(writer, [short, long], 2, greedy, torch.Generator().manual_seed(0))
    for ids, (rows, _) in zip([short, long], together, strict=True):
        alone, _ = sample_batched(writer, ids, 1, greedy, torch.Generator().manual_seed(0))
        assert rows == alone * 2

def _ending_at_different_steps(writer: Writer, prompts: list[list[int]]) -> tuple[SamplingSettings, list[Any]]:
    """Greedy settings under which each prompt's row writes the end token, at a different step for each,
    and each prompt's row drafted alone under them.

    Plain greedy decoding of the tiny model loops on one token and never ends; an n-gram ban makes it
    move on, and then it ends within a few dozen tokens."""
    for size in (2, 3, 4, 5):
        settings = SamplingSettings(top_k=1, max_new_tokens=80, no_repeat_ngram_size=size)
        alone = [sample_batched(writer, ids, 1, settings, torch.Generator().manual_seed(0)) for ids in prompts]
        if all(ended[0] for _, ended in alone) and len({len(rows[0]) for rows, _ in alone}) == len(prompts):
            return settings, alone
    raise AssertionError("no n-gram ban makes the tiny writer's greedy rows end at different steps")


def test_finished_rows_leave_the_batch_without_changing_any_row(writer: Writer) -> None:
    """Rows that wrote their end token are dropped from the batch and its KV cache; the rest go on unchanged."""
    short = writer.tokenizer(reply_prompt("Help with an audit?"))["input_ids"]
    long = writer.tokenizer(reply_prompt(REQUEST + " We have four weeks and a tight budget."))["input_ids"]
    greedy, alone = _ending_at_different_steps(writer, [short, long])
    batch_sizes: list[int] = []
    handle = writer.model.register_forward_pre_hook(
        lambda _m, _a, kwargs: batch_sizes.append(int(kwargs["input_ids"].shape[0])), with_kwargs=True)
    try:
        together = sample_many(writer, [short, long], 2, greedy, torch.Generator().manual_seed(0))
    finally:
        handle.remove()
    assert [(rows, ended) for rows, ended in together] == [(rows * 2, ended * 2) for rows, ended in alone]
    assert all(ended for _, flags in together for ended in flags)  # both prompts' rows did finish ...
    assert len({len(rows[0]) for rows, _ in together}) == 2  # ... at different steps
    assert batch_sizes[1] == 4 and batch_sizes[-1] == 2  # so the last steps ran on the unfinished rows only


def test_repetition_control_reaches_the_torch_sampler(writer: Writer) -> None:
    """A 2-gram ban: no pair of tokens written twice; a strong penalty: fewer repeated tokens than without."""
    ids = writer.tokenizer(reply_prompt(REQUEST))["input_ids"]
    greedy = SamplingSettings(top_k=1, max_new_tokens=80)
    [([plain], _)] = sample_many(writer, [ids], 1, greedy, torch.Generator().manual_seed(0))
    banned = SamplingSettings(top_k=1, max_new_tokens=80, no_repeat_ngram_size=2)
    [([row], _)] = sample_many(writer, [ids], 1, banned, torch.Generator().manual_seed(0))
    pairs = list(zip(row, row[1:], strict=False))
    assert len(pairs) == len(set(pairs))
    penalised = SamplingSettings(top_k=1, max_new_tokens=80, repetition_penalty=2.0)
    [([kinder], _)] = sample_many(writer, [ids], 1, penalised, torch.Generator().manual_seed(0))
    assert len(set(kinder)) / max(1, len(kinder)) > len(set(plain)) / max(1, len(plain))


def test_the_live_settings_carry_repetition_control_into_the_card(writer: Writer) -> None:
    from implementor.models.writer.model import LiveSampling

    live = LiveSampling.from_dict({"cv": {"repetition_penalty": 1.2, "no_repeat_ngram_size": 6}, "reply": {}})
    assert live.to_dict()["cv"]["repetition_penalty"] == 1.2 and live.cv.no_repeat_ngram_size == 6
    assert LiveSampling.from_dict({"cv": {"temperature": 0.7}}).cv.repetition_penalty == 1.0  # an older card
    assert {"repetition_penalty", "no_repeat_ngram_size"} <= set(writer.card["sampling"]["reply"])


def test_following_the_drafting_changes_no_draft_and_its_share_only_grows(writer: Writer) -> None:
    """The progress callback sees each step's share of the token budget (finished drafts count in full)."""
    from implementor.models.writer.sampling import budget_spent

    ids = writer.tokenizer(reply_prompt(REQUEST))["input_ids"]
    settings = SamplingSettings(max_new_tokens=40)
    plain = sample_many(writer, [ids, ids[:20]], 4, settings, torch.Generator().manual_seed(3))
    shares: list[float] = []
    followed = sample_many(writer, [ids, ids[:20]], 4, settings, torch.Generator().manual_seed(3),
                           progress=shares.append)
    assert followed == plain  # same seed, same drafts: the callback only listens
    assert shares and shares == sorted(shares) and 0 < shares[0] and shares[-1] <= 1
    assert len(shares) <= settings.max_new_tokens - 1  # at most one a step (none after the last)
    assert budget_spent(8, 8, 0, 40) == 0 and budget_spent(8, 0, 3, 40) == 1 and budget_spent(8, 4, 20, 40) == 0.75


@pytest.mark.parametrize("settings", [
    SamplingSettings(temperature=0.6, top_k=40, top_p=0.9),
    SamplingSettings(temperature=0.7, top_k=40, repetition_penalty=1.3, no_repeat_ngram_size=3),
    SamplingSettings(top_k=1),
    SamplingSettings(top_k=0, top_p=0.9),  # no top-k: the torch path
])
def test_picking_from_a_numpy_array_draws_what_the_reference_draws(settings: SamplingSettings) -> None:
    """llama.cpp's engine picks from numpy arrays (`pick_array`); the same seed must give the same tokens
    as `pick`, step after step, with the end token held back and the repetition state growing."""
    from implementor.models.writer.repetition import Repetition
    from implementor.models.writer.sampling import pick, pick_array

    rows, vocab, cpu = 5, 3000, torch.device("cpu")
    ours, theirs = (Repetition(rows, vocab, settings.repetition_penalty, settings.no_repeat_ngram_size, cpu)
                    for _ in range(2))
    mine, reference, data = (torch.Generator().manual_seed(seed) for seed in (1, 1, 2))
    for step in range(60):
        logits = torch.randn(rows, vocab, generator=data) * 3
        expected = pick(logits.clone(), theirs, settings, reference, 0, step < 3).tolist()
        got = pick_array(logits.numpy().copy(), ours, settings, mine, 0, step < 3)
        assert got == expected
        assert step >= 3 or 0 not in got
        ours.record(torch.tensor(got))
        theirs.record(torch.tensor(expected))


def test_the_repetition_state_of_rows_that_rejoin_is_what_they_wrote() -> None:
    """A held draft rejoins the batch (`Repetition.after`): the penalty and the n-gram ban must follow
    what it wrote, as if it had never left."""
    from implementor.models.writer.repetition import Repetition

    cpu, drafts = torch.device("cpu"), [[5, 6, 7, 5, 6], [1, 2, 3], []]
    grown = Repetition(3, 10, 1.5, 3, cpu)
    for step in range(5):
        grown.record(torch.tensor([d[step] if step < len(d) else 0 for d in drafts[:1]] + [9, 9]))
    rebuilt = Repetition.after(drafts, 10, 1.5, 3, cpu)
    logits = torch.ones(3, 10)
    applied = rebuilt.apply(logits.clone())
    assert applied[0, 7] == float("-inf")  # "5 6" was followed by 7: banned after "5 6"
    assert applied[0, 5] == 1 / 1.5 and applied[1, 2] == 1 / 1.5 and applied[1, 4] == 1  # written: penalised
    assert torch.equal(applied[2], logits[2])  # nothing written, nothing changed
    assert torch.equal(grown.apply(logits.clone())[0], applied[0])  # the first row as if it had never left
