from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from config.errors import InputError
from models.candidates import (
    MAX_PROMPT_CHARS,
    clean,
    draft_cv,
    draft_replies,
    generate_candidates,
    neutralise_mentions,
    sample_batched,
    trim_to_sentence,
)
from models.text_format import reply_prompt
from models.writer import SamplingSettings, Writer

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


def test_candidates_are_distinct_clean_and_reproducible(writer: Writer) -> None:
    drafts = draft_replies(writer, REQUEST, n=5, seed=3)
    assert len(drafts) == 5 and len(set(drafts)) == 5
    assert all(d == d.strip() and d for d in drafts)
    assert draft_replies(writer, REQUEST, n=5, seed=3) == drafts
    assert draft_replies(writer, REQUEST, n=5, seed=4) != drafts


def test_cv_drafts_use_the_cv_settings(writer: Writer) -> None:
    drafts = draft_cv(writer, "Ada Lovelace", "Data Scientist", n=2, seed=0,
                      settings=SamplingSettings(max_new_tokens=40))
    assert len(drafts) == 2


def test_generated_text_never_carries_mentions(writer: Writer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the model writes, mention syntax does not survive into a candidate."""
    real_decode = writer.tokenizer.decode

    def decode_with_mentions(ids, **kwargs):  # type: ignore[no-untyped-def]
        return "@everyone <@123456> look @here <@!42> <@&7> <#99>. " + real_decode(ids, **kwargs)

    monkeypatch.setattr(writer.tokenizer, "decode", decode_with_mentions)
    for draft in draft_replies(writer, REQUEST, n=3, seed=0):
        assert "@everyone" not in draft and "@here" not in draft
        assert "<@" not in draft and "<#" not in draft


def test_neutralise_mentions_keeps_ordinary_text() -> None:
    assert neutralise_mentions("ping @everyone and @ here, mail ada@example.com") == \
        "ping everyone and here, mail ada@example.com"
    assert neutralise_mentions("thanks <@123> and <@!9>") == "thanks  and "


def test_drafts_that_ran_out_end_on_a_sentence() -> None:
    assert trim_to_sentence("First one. Second one is cut") == "First one."
    assert trim_to_sentence("- BSc in Art (2010)\n- MSc in") == "- BSc in Art (2010)"
    assert clean("Done. And a half", finished=True) == "Done. And a half"
    assert clean("Done. And a half", finished=False) == "Done."


def test_long_prompts_are_cut_from_the_left(writer: Writer, caplog: pytest.LogCaptureFixture) -> None:
    long_request = "please help " * 400
    with caplog.at_level(logging.WARNING):
        drafts = draft_replies(writer, long_request + "with the budget", n=2, seed=0,
                               settings=SamplingSettings(max_new_tokens=16))
    assert drafts
    assert "keeping its last" in caplog.text


@pytest.mark.parametrize("bad", ["", "   \n\t "])
def test_empty_prompts_are_refused(writer: Writer, bad: str) -> None:
    with pytest.raises(InputError, match="empty"):
        draft_replies(writer, bad)
    with pytest.raises(InputError, match="empty"):
        draft_cv(writer, bad, "Analyst")


def test_absurd_inputs_are_refused(writer: Writer) -> None:
    with pytest.raises(InputError, match="characters"):
        draft_replies(writer, "x" * (MAX_PROMPT_CHARS + 1))
    with pytest.raises(InputError, match="n must be"):
        generate_candidates(writer, reply_prompt(REQUEST), 0, SamplingSettings())
    with pytest.raises(InputError, match="no room"):
        generate_candidates(writer, reply_prompt(REQUEST), 1, SamplingSettings(max_new_tokens=writer.context))


def test_prompts_of_different_lengths_batch_like_they_run_alone(writer: Writer) -> None:
    """Left padding with a mask and position ids: each row continues exactly as it would alone."""
    from models.candidates import sample_many

    short = writer.tokenizer(reply_prompt("Help with an audit?"))["input_ids"]
    long = writer.tokenizer(reply_prompt(REQUEST + " We have four weeks and a tight budget."))["input_ids"]
    greedy = SamplingSettings(top_k=1, max_new_tokens=20)
    together = sample_many(writer, [short, long], 2, greedy, torch.Generator().manual_seed(0))
    for ids, (rows, _) in zip([short, long], together, strict=True):
        alone, _ = sample_batched(writer, ids, 1, greedy, torch.Generator().manual_seed(0))
        assert rows == alone * 2


def test_finished_rows_leave_the_batch_without_changing_any_row() -> None:
    """Rows that wrote their end token are dropped from the batch and its KV cache; the rest go on unchanged.

    On the bundled writer: the tiny test model never stops under greedy decoding."""
    from models.candidates import sample_many

    writer = Writer.load(None, "cpu")
    short = writer.tokenizer(reply_prompt("Help with an audit?"))["input_ids"]
    long = writer.tokenizer(reply_prompt(REQUEST + " We have four weeks and a tight budget."))["input_ids"]
    greedy = SamplingSettings(top_k=1, max_new_tokens=writer.context - len(long))
    batch_sizes: list[int] = []
    handle = writer.model.register_forward_pre_hook(
        lambda _m, _a, kwargs: batch_sizes.append(int(kwargs["input_ids"].shape[0])), with_kwargs=True)
    try:
        together = sample_many(writer, [short, long], 2, greedy, torch.Generator().manual_seed(0))
    finally:
        handle.remove()
    alone = [sample_batched(writer, ids, 1, greedy, torch.Generator().manual_seed(0)) for ids in (short, long)]
    assert [(rows, ended) for rows, ended in together] == [(rows * 2, ended * 2) for rows, ended in alone]
    assert all(ended for _, flags in together for ended in flags)  # both prompts' rows did finish ...
    assert len({len(rows[0]) for rows, _ in together}) == 2  # ... at different steps
    assert batch_sizes[1] == 4 and batch_sizes[-1] == 2  # so the last steps ran on the unfinished rows only
