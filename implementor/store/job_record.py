"""One job as the book keeps it (`jobbook.py` reads and writes it): where it goes, how far it got, and who
holds it. A plain record, apart from its table so that the book's queries stay in one module of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import TypeAdapter

from implementor.contracts.jobs import Job, Result
from implementor.contracts.states import JobState

_JOB: TypeAdapter[Job] = TypeAdapter(Job)


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    kind: str
    guild_id: int | None
    channel_id: int
    user_id: int
    request: str | None
    status: JobState  # see the module docstring
    result: Result | None  # typed once, as it was read from the book
    message_id: int | None  # the posted result
    created_at: float
    finished_at: float | None
    job: str | None = None  # the job as queued (JSON), to submit it again if the broker lost it
    token: str | None = None  # the interaction's token, for follow-ups while it lives
    token_expires: float | None = None
    status_message_id: int | None = None
    status_text: str | None = None
    slot_open: int = 0
    colleague_id: int | None = None
    extras_sent: int = 0  # follow-up messages of a long result already sent
    lost_since: float | None = None
    error: str | None = None
    replaces_job_id: str | None = None  # a Regenerate: the job whose answer it replaces, in that answer's message
    claimed_by: str | None = None  # the bot process working on it, while its lease lives
    lease_until: float | None = None
    status_key: str | None = None  # what the status message last showed (`bot/status.py`'s key), and when
    status_at: float | None = None
    parent_job_id: str | None = None  # a follow-up: the job whose answer it follows (its conversation's last turn)
    reply_to_id: int | None = None  # the message its status and answer reply to (a follow-up's), if any

    @property
    def open(self) -> bool:
        return self.status.open

    def token_alive(self, now: float, margin_s: float = 30.0) -> bool:
        return self.token is not None and self.token_expires is not None and now < self.token_expires - margin_s

    def queued_job(self) -> Job | None:
        return _JOB.validate_json(self.job) if self.job else None
