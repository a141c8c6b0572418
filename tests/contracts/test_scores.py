"""The one explanation table: every draft, the chosen one first, its first line, scores and verdict in
aligned columns, and within a limit when given (narrower drafts, then fewer, never without the chosen)."""

from __future__ import annotations

from implementor.contracts.scores import CandidateScore, first_line, scores_table

ROWS = [
    CandidateScore(text="## Profile\nI plan campaigns and ship them on time.\n\n## Skills\n- plan", p_real=0.95,
                   quality=3.2, chosen=False, reason="realistic, lower expected quality than #2"),
    CandidateScore(text="I can help: I planned the Acme launch.\nShall we talk on Monday?", p_real=0.97,
                   quality=4.21, chosen=True, reason="chosen: best expected quality of 2 realistic"),
    CandidateScore(text="No.", p_real=0.2, quality=1.1, chosen=False, reason="too short (3 < 40 characters)"),
]


def test_each_draft_is_listed_with_its_scores_and_verdict_the_chosen_first() -> None:
    header, rule, *rows = scores_table(ROWS).splitlines()
    assert [r[:3] for r in rows] == ["* 2", "  1", "  3"]  # the draft's own number, the chosen one first
    column = header.index("draft")
    assert [r[column:] for r in rows] == ["I can help: I planned the Acme launch.",  # its first line only
                                          "I plan campaigns and ship them on time.",  # a CV's heading skipped
                                          "No."]
    assert all(r[header.index("verdict"):].startswith(v.reason) for r, v in zip(rows, [ROWS[1], ROWS[0], ROWS[2]],
                                                                               strict=True))
    assert "0.970     4.21" in rows[0] and "0.200     1.10" in rows[2]


def test_a_long_first_line_is_trimmed() -> None:
    assert first_line("word " * 50, 20) == "word word word word…" and len(first_line("word " * 50, 20)) <= 20


def test_the_table_fits_a_limit_and_keeps_the_chosen_draft() -> None:
    many = [ROWS[0].model_copy(update={"text": "x" * 300})] * 40 + [ROWS[1]]
    table = scores_table(many, limit=1500)
    assert len(table) <= 1500 and table.splitlines()[2].startswith("*41") and "more drafts not shown" in table
    assert len(scores_table(ROWS, limit=1500)) == len(scores_table(ROWS))  # nothing cut when it fits
