"""The learner's one question to the job book: the colleague's reply posted as a given message, with members'
ratings of it (`posted_reply`). The harvest asks it for each message of the colleague's it reads
(`learning/harvest_job.py`); the book's every other query is in `jobbook.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from implementor.contracts.jobs import ProjectResult
from implementor.store.connection import Database
from implementor.store.jobbook import read_result


@dataclass(frozen=True)
class PostedReply:
    """A project job whose result the bot posted, as the learner reads it."""

    job_id: str
    request: str
    asker: int  # the member who asked
    result: ProjectResult
    ratings: dict[int, int] = field(default_factory=dict)  # member -> their rating, 1 to 5 (the buttons)


async def posted_reply(db: Database, message_id: int) -> PostedReply | None:
    """The project job whose result is the message `message_id`, with every member's rating of it; None
    if no project job with a request and a result was posted as that message ."""
    # A regenerated answer's message carries the newest job's answer (Regenerate replaces it in place).
    async with db.execute("SELECT job_id, request, result, user_id FROM jobs WHERE message_id = ? "
                          "AND kind = 'project' ORDER BY created_at DESC", (message_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None or not row[1]:
        return None
    async with db.execute("SELECT user_id, rating FROM feedback WHERE job_id = ?", (row[0],)) as cursor:
        ratings = {int(user): int(rating) for user, rating in await cursor.fetchall()}
    result = read_result(row[0], "project", row[2])
    if not isinstance(result, ProjectResult):
        return None
    return PostedReply(row[0], row[1], int(row[3]), result, ratings)
