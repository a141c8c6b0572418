"""The score row of one draft, and the one table that shows a job's drafts and why one was chosen.

The reranker fills the rows, a worker sends them in the job's result, and the command line
(`--explain`) and the bot ("Why this reply?") print them with `scores_table`.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict


class CandidateScore(BaseModel):
    """One draft as the reranker judged it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str
    p_real: float  # the realism discriminator's probability that a person wrote it
    quality: float  # expected rating, 1 to 5
    chosen: bool
    reason: str
    # The probability that the selection policy posts this draft (exploration included; see
    # implementor/models/rerank/policy.py); None in results made before it was recorded.
    propensity: float | None = None


VERDICT_WIDTH = 44  # the policy's usual verdicts fit ("realistic, lower expected quality than #3")
DRAFT_WIDTHS = (40, 28, 20)  # a draft's first line, narrowed in these steps to fit a limit


def first_line(text: str, width: int) -> str:
    """A draft's first line of text (a CV's `## Profile` heading skipped), cut to `width` with an ellipsis."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _lines(rows: Sequence[tuple[int, CandidateScore]], verdict: int, draft: int) -> list[str]:
    lines = [f"  #  P(real)  quality  {'verdict':<{verdict}}  draft",
             f"  -  -------  -------  {'-' * 7:<{verdict}}  -----"]
    for number, row in rows:
        lines.append(f"{'*' if row.chosen else ' '}{number:2d}  {row.p_real:7.3f}  {row.quality:7.2f}  "
                     f"{_cut(row.reason, verdict):<{verdict}}  {first_line(row.text, draft)}")
    return lines


def scores_table(rows: Sequence[CandidateScore], limit: int | None = None) -> str:
    """Every draft, the chosen one first (starred; `#` is the draft's own number): P(real), quality, the
    verdict and the draft's first line, in aligned columns for a fixed-width font.

    Within `limit` characters if given: the drafts' column narrows first, then the last drafts are left
    out (and counted); the chosen one is always shown.
    """
    ordered = sorted(enumerate(rows, 1), key=lambda pair: not pair[1].chosen)  # stable: the rest keep their order
    verdict = min(VERDICT_WIDTH, max([len(r.reason) for r in rows] + [7]))
    if limit is None:
        return "\n".join(_lines(ordered, verdict, DRAFT_WIDTHS[0]))
    for draft in DRAFT_WIDTHS:
        text = "\n".join(_lines(ordered, verdict, draft))
        if len(text) <= limit:
            return text
    shown = len(ordered)
    while shown > 1:
        shown -= 1
        text = "\n".join([*_lines(ordered[:shown], verdict, DRAFT_WIDTHS[-1]),
                          f"   (+{len(ordered) - shown} more drafts not shown)"])
        if len(text) <= limit:
            return text
    return text[:limit]
