"""Rendering: Discord's limits, neutralised mentions, the CV's sections, the "Why this reply?" table."""

from __future__ import annotations

import pytest
from bot_fake_queue import long_cv

from implementor.bot.render import (
    DESCRIPTION_LIMIT,
    EMBED_LIMIT,
    FIELD_LIMIT,
    MESSAGE_LIMIT,
    cv_embed,
    reply_embed,
    split_text,
    status_line,
    why_message,
)
from implementor.contracts.scores import CandidateScore
from implementor.contracts.scores import scores_table as shared_scores_table
from implementor.contracts.states import Stage


@pytest.mark.parametrize("limit", [50, 1024, 2000])
def test_split_text_keeps_every_word_within_the_limit(limit: int) -> None:
    text = long_cv()
    pieces = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())


def test_a_long_cv_fits_discords_limits_and_loses_nothing() -> None:
    rendered = cv_embed("Ada Lovelace", "Data Scientist", long_cv(), image_url="attachment://face.png")
    embed = rendered.embed
    assert len(embed.description or "") <= DESCRIPTION_LIMIT
    assert all(len(f.value or "") <= FIELD_LIMIT for f in embed.fields) and len(embed.fields) <= 25
    assert len(embed) <= EMBED_LIMIT
    assert rendered.follow_ups and all(len(m) <= MESSAGE_LIMIT for m in rendered.follow_ups)
    shown = " ".join([embed.description or "", *(f.value or "" for f in embed.fields), *rendered.follow_ups])
    for i in (0, 150, 299):
        assert f"skill number {i} " in shown
    assert "Role 79, Company 79" in shown and "University of Leeds" in shown
    assert embed.image.url == "attachment://face.png"


def test_a_short_cv_is_one_embed() -> None:
    cv = "## Profile\nI count.\n\n## Skills\n- count\n\n## Experience\n- A (2020-present)\n\n## Education\n- BA (2019)"
    rendered = cv_embed("Ada", "Analyst", cv)
    assert rendered.follow_ups == []
    assert [f.name for f in rendered.embed.fields] == ["Skills", "Experience", "Education"]


def test_a_cv_without_headings_is_one_section() -> None:
    rendered = cv_embed("Ada", "Analyst", "I count things.\n")
    assert rendered.embed.description == "**CV**\nI count things." and rendered.embed.fields == []


def test_mention_syntax_in_generated_text_is_neutralised() -> None:
    cv = "## Profile\nHello @everyone and @here, ask <@123456> or <@&42> in <#99>.\n\n## Skills\n- ping <@!7>"
    rendered = cv_embed("Eve <@1>", "Admin @everyone", cv)
    reply = reply_embed("Eve", "Admin", "Thanks @everyone <@123>", None)
    texts = [rendered.embed.title or "", rendered.embed.author.name or "", rendered.embed.description or "",
             *(f.value or "" for f in rendered.embed.fields), reply.embed.description or "",
             why_message([CandidateScore(text="draft", p_real=0.9, quality=3.0, reason="@here <@1>", chosen=True)])]
    for text in texts:
        assert "@everyone" not in text and "@here" not in text and "<@" not in text and "<#" not in text


def test_why_this_reply_is_the_shared_table_in_one_code_block_within_a_message() -> None:
    chosen = CandidateScore(text="I can help: I planned the Acme launch.", p_real=0.97, quality=4.2, chosen=True,
                            reason="chosen: best expected quality of 2 realistic")
    other = CandidateScore(text="Sure ```rm -rf``` thing " + "word " * 200, p_real=0.95, quality=3.1, chosen=False,
                           reason="realistic, lower expected quality than #2")
    text = why_message([other, chosen])  # as the book reads them back
    assert text.count("```") == 2 and text.startswith("```\n")  # a draft's backticks cannot end the block
    table = text.split("```")[1].strip("\n")
    assert table == shared_scores_table([other.model_copy(update={"text": other.text.replace("`", "'")}), chosen])
    assert table.splitlines()[2].startswith("* 2") and "I can help: I planned the Acme launch." in table

    many = [other] * 31 + [chosen]  # IMPLEMENTOR_CANDIDATES at most
    crowded = why_message(many)
    assert len(crowded) <= MESSAGE_LIMIT and "*32" in crowded and "more drafts not shown" in crowded
    assert why_message([]) == "I have no drafts on record for this reply."


def test_status_lines() -> None:
    assert status_line("queued", 3, 42.4) == "⏳ Queued: number 3 in the queue, about 42 s."
    assert status_line("generating").startswith("✍️")
    assert status_line("done").startswith("✅")
    assert status_line("cancelled") == "✖️ Cancelled."
    assert status_line("expired") == "⌛ Nothing came back in time, so I stopped waiting; please ask again."


def test_every_stage_has_its_own_line_and_only_done_says_done() -> None:
    lines = {stage: status_line(stage) for stage in Stage}
    assert len(set(lines.values())) == len(Stage)
    assert [stage for stage, line in lines.items() if line.startswith("✅")] == [Stage.DONE]


@pytest.mark.parametrize("stage", ["compiling kernels", "Done", ""])
def test_a_stage_the_bot_does_not_know_reads_as_working_never_done(stage: str) -> None:
    assert status_line(stage) == status_line(Stage.WORKING) == "⚙️ Working on it..."


def test_an_estimate_says_when_it_was_made_in_each_readers_time() -> None:
    assert status_line("queued", 1, 15.0, as_of=1700000000.7) == \
        "⏳ Queued: number 1 in the queue, about 15 s (as of <t:1700000000:T>)."
    assert status_line("reserved", as_of=1700000000) == "⏳ Next up: a worker has taken it (as of <t:1700000000:T>)."
    unreachable = status_line("unreachable", as_of=1700000000)
    assert "cannot be reached" in unreachable and "no estimate" in unreachable and "<t:1700000000:T>" in unreachable


def test_a_failure_reason_is_made_safe_and_short() -> None:
    text = status_line("failed", reason="@everyone " + "x" * 1000)
    assert text.startswith("⚠️ That did not work: ") and "@everyone" not in text and len(text) < 400
