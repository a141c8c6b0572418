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


def scores_table(rows: Sequence[CandidateScore], reason_width: int | None = None) -> str:
    """The drafts' scores, one line each, the chosen one starred."""
    lines = ["  #  P(real)  quality  verdict", "  -  -------  -------  -------"]
    for i, row in enumerate(rows, 1):
        reason = row.reason if reason_width is None else row.reason[:reason_width]
        lines.append(f"{'*' if row.chosen else ' '}{i:2d}  {row.p_real:7.3f}  {row.quality:7.2f}  {reason}")
    return "\n".join(lines)
