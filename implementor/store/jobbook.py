"""The bot's book of jobs, in the store (SQLite or PostgreSQL): every accepted request, where it must be posted,
and how far it got.

This is what makes posting durable: a job is written here before the member is told it is queued,
with everything needed to post its result later from any process (the channel, the interaction's
token while it lives, the status message, the job itself for a resubmission). The reconciler
(`reconciler.py`) drives each open job to exactly one end from this book, not from memory.

A job's state (`contracts.states.JobState`) changes here and nowhere else: each method below is one
move of the state machine, guarded by the states it may start from, so that two coroutines (or a
crash and a restart) cannot both make it:

    accepted -> queued -> done -> posting -> posted -> deleted    (accepted: written, not yet on the broker)
        \\-------\\--------\\------> failed | cancelled | expired

`posting` is a claim: one coroutine posts a result, and a claim found after a crash is checked
against the channel before anything is posted again. Once the result is out, its message id is kept
while its follow-ups (a long CV's overflow) go out, counted in `extras_sent`; then it is `posted`.
`slot_open` says the member's limits slot has not been given back yet; every end gives it back, and
the reconciler retries until it is.

A result is typed once, here: `store_result` takes the contract's result, and every record read back
carries it as `IntroduceResult` or `ProjectResult` (`read_result`), so no reader parses JSON again.

Bot processes share the book by claims with leases: the process that accepts a job claims it (`claimed_by`
until `lease_until`); each reconciler pass `claim`s its own, renewed, and any whose lease lapsed (a job caught
`posting` included), in one statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer).
Places in line follow `seq`, the order jobs came in, the same for every process.

The `jobs` table is made by `migrations.py`; this module is its only writer, and it keeps every query
on it but the learner's (`replies.py`: the colleague's reply posted as a given message, with members'
ratings of it).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from implementor.contracts.jobs import RESULT_OF_KIND, Job, ProjectResult, Result
from implementor.contracts.states import OPEN, WAITING, JobState
from implementor.store.connection import Database
from implementor.store.job_record import JobRecord

log = logging.getLogger(__name__)

_FIELDS = ("job_id", "kind", "guild_id", "channel_id", "user_id", "request", "status", "result", "message_id",
           "created_at", "finished_at", "job", "token", "token_expires", "status_message_id", "status_text",
           "slot_open", "colleague_id", "extras_sent", "lost_since", "error", "replaces_job_id", "claimed_by",
           "lease_until", "status_key", "status_at", "parent_job_id", "reply_to_id")
ENDABLE = (*WAITING, JobState.DONE)  # what `end` may end: not a job being posted (the poster finishes it)


def _among(*states: JobState) -> str:
    """The guard of a move: `AND status IN (...)`, spelled from the enum (our constants, never input)."""
    return f"AND status IN ({', '.join(repr(s.value) for s in states)})"


@dataclass(frozen=True)
class Claims:
    """Who this process is in the book, which shards it serves, and how long its claims last unrenewed."""

    owner: str
    lease_s: float = 30.0
    shard_count: int = 1
    shard_ids: tuple[int, ...] = (0,)


class JobBook:
    def __init__(self, db: Database, claims: Claims | None = None) -> None:
        self.db = db
        self.claims = claims or Claims(owner="")

    async def add(self, job: Job, guild_id: int | None, channel_id: int, user_id: int, token: str | None = None,
                  token_expires: float | None = None, colleague_id: int | None = None,
                  replaces: JobRecord | None = None, parent_job_id: str | None = None,
                  reply_to_id: int | None = None) -> int:
        """Write an accepted job down with all it takes to post it from any process; returns its place in line.
        `replaces`: a Regenerate's, whose answer message is this job's status message, then its answer.
        A follow-up names the job it follows (`parent_job_id`) and the message its answer replies to."""
        request = getattr(job, "request", None)
        await self.db.execute(
            "INSERT INTO jobs (job_id, kind, guild_id, channel_id, user_id, request, status, created_at, job, token, "
            "token_expires, slot_open, colleague_id, replaces_job_id, status_message_id, claimed_by, lease_until, "
            "parent_job_id, reply_to_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,1,?,?,?,?,?,?,?)",
            (job.job_id, job.kind, guild_id, channel_id, user_id, request, JobState.ACCEPTED, time.time(),
             job.model_dump_json(), token, token_expires, colleague_id, replaces.job_id if replaces else None,
             replaces.message_id if replaces else None, self.claims.owner or None,
             time.time() + self.claims.lease_s, parent_job_id, reply_to_id))
        await self.db.commit()
        return await self.position(job.job_id)

    async def get(self, job_id: str) -> JobRecord | None:
        return next(iter(await self._select("WHERE job_id = ?", (job_id,))), None)

    async def open_jobs(self) -> list[JobRecord]:
        """Every job not at an end, oldest first (every process's)."""
        return await self._select(f"WHERE status IN ({','.join('?' * len(OPEN))}) ORDER BY seq", OPEN)

    async def claim(self) -> list[JobRecord]:
        """The open jobs this process works on, oldest first: its own, lapsed ones, unclaimed ones of its shards."""
        now, mine = time.time(), self.claims
        lock = " FOR UPDATE SKIP LOCKED" if self.db.dialect == "postgresql" else ""
        shards = ",".join("?" * len(mine.shard_ids))
        await self.db.execute(
            f"UPDATE jobs SET claimed_by = ?, lease_until = ? WHERE job_id IN (SELECT job_id FROM jobs "
            f"WHERE status IN ({','.join('?' * len(OPEN))}) AND (claimed_by = ? OR lease_until < ? OR "
            f"(claimed_by IS NULL AND ((COALESCE(guild_id, 0) / 4194304) % ?) IN ({shards}))){lock})",  # shard_of
            (mine.owner, now + mine.lease_s, *OPEN, mine.owner, now, mine.shard_count, *mine.shard_ids))
        await self.db.commit()
        return await self._select(f"WHERE claimed_by = ? AND status IN ({','.join('?' * len(OPEN))}) ORDER BY seq",
                                  (mine.owner, *OPEN))

    async def renew(self, give_up: bool = False) -> int:
        """Extend this process's claims by another lease (a pass held up by Discord must not let them lapse), or
        `give_up` them, lapsed at once for any process to take over (a drain); returns how many."""
        renewed = await self.db.execute(
            f"UPDATE jobs SET lease_until = ? WHERE claimed_by = ? AND status IN ({','.join('?' * len(OPEN))})",
            (0.0 if give_up else time.time() + self.claims.lease_s, self.claims.owner, *OPEN))
        await self.db.commit()
        return renewed.rowcount

    async def slots_to_return(self) -> list[JobRecord]:
        """Ended jobs whose member's slot is still taken: this process's, or any whose claim lapsed."""
        return await self._select("WHERE slot_open = 1 AND status NOT IN (?,?,?,?) AND (claimed_by IS NULL OR "
                                  "claimed_by = ? OR lease_until < ?)", (*OPEN, self.claims.owner, time.time()))

    async def _select(self, where: str, args: tuple[Any, ...]) -> list[JobRecord]:
        async with self.db.execute(f"SELECT {', '.join(_FIELDS)} FROM jobs {where}", args) as cursor:
            rows = await cursor.fetchall()
        records = []
        for row in rows:
            values = dict(zip(_FIELDS, row, strict=True))
            values["result"] = read_result(values["job_id"], values["kind"], values["result"])
            values["status"] = JobState(values["status"])
            records.append(JobRecord(**values))
        return records

    async def _update(self, job_id: str, where: str = "", **values: Any) -> bool:
        sets = ", ".join(f"{k} = ?" for k in values)
        cursor = await self.db.execute(f"UPDATE jobs SET {sets} WHERE job_id = ? {where}", (*values.values(), job_id))
        await self.db.commit()
        return cursor.rowcount == 1

    async def mark_submitted(self, job_id: str) -> None:
        await self._update(job_id, _among(JobState.ACCEPTED), status=JobState.QUEUED, lost_since=None)

    async def set_status_message(self, job_id: str, message_id: int | None, text: str, key: str | None = None,
                                 at: float | None = None) -> JobRecord | None:
        """Record what the status message says (and its id, once sent; what it shows, `key`, `at` a time); returns
        the job as it now stands, which a fast worker may have ended while the message was on its way."""
        shown: dict[str, Any] = {"status_key": key, "status_at": at} if key is not None else {}
        ids: dict[str, Any] = {} if message_id is None else {"status_message_id": message_id}
        await self._update(job_id, status_text=text, **ids, **shown)
        return await self.get(job_id)

    async def set_lost_since(self, job_id: str, since: float | None) -> None:
        await self._update(job_id, lost_since=since)

    async def store_result(self, job_id: str, result: Result) -> bool:
        """A result arrived: the job waits to be posted; False if it was not waiting (posting or over already)."""
        return await self._update(job_id, _among(*WAITING), status=JobState.DONE, result=result.model_dump_json(),
                                  finished_at=time.time())

    async def claim_post(self, job_id: str) -> bool:
        """Take the job for posting; False if another coroutine has it, or it was posted or ended."""
        return await self._update(job_id, _among(JobState.DONE), status=JobState.POSTING)

    async def record_post(self, job_id: str, message_id: int) -> None:
        """Where the result went, while its follow-ups still go out (the job stays `posting` until they have)."""
        await self._update(job_id, _among(JobState.POSTING), message_id=message_id)

    async def mark_posted(self, job_id: str, message_id: int) -> bool:
        """Record where a result was posted; False if it had been posted already (post it once)."""
        return await self._update(job_id, f"AND status != '{JobState.POSTED.value}'", status=JobState.POSTED,
                                  message_id=message_id)

    async def count_extras(self, job_id: str, sent: int) -> None:
        await self._update(job_id, extras_sent=sent)

    async def end(self, job_id: str, status: JobState, error: str | None = None) -> bool:
        """End an open job as failed, cancelled or expired; False if it had ended (or was posting) already."""
        assert status in (JobState.FAILED, JobState.CANCELLED, JobState.EXPIRED), status
        return await self._update(job_id, _among(*ENDABLE), status=status, error=error, finished_at=time.time())

    async def give_up(self, job_id: str, error: str) -> bool:
        """End a finished job Discord never let us post (a channel that refuses for good) as failed."""
        return await self._update(job_id, _among(JobState.DONE, JobState.POSTING), status=JobState.FAILED,
                                  error=error)

    async def delete(self, job_id: str) -> bool:
        """A posted result was deleted: so are its drafts and their scores (the candidate log), with the
        "Why this reply?" they answered; the reply itself stays for the ratings already given to it.
        False if the job has no result out (or was deleted already). A result whose follow-ups are still
        going out (`posting`) can be deleted too: its Delete button is on the first message."""
        record = await self.get(job_id)
        if record is None:
            return False
        kept = record.result.model_copy(update={"candidates": []}).model_dump_json() if record.result else None
        return await self._update(job_id, _among(JobState.POSTING, JobState.POSTED), status=JobState.DELETED,
                                  result=kept)

    async def slot_returned(self, job_id: str) -> None:
        await self._update(job_id, slot_open=0)

    async def position(self, job_id: str) -> int:
        """1 + the open jobs accepted before this one (its place in line, as far as the bot knows)."""
        async with self.db.execute(
            f"SELECT COUNT(*) FROM jobs WHERE status IN ({','.join('?' * len(OPEN))}) "
            "AND seq < (SELECT seq FROM jobs WHERE job_id = ?)", (*OPEN, job_id)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) + 1 if row else 1

    async def answered_as(self, message_id: int) -> JobRecord | None:
        """The project job whose answer is the message `message_id` (the newest, after a Regenerate), if any."""
        rows = await self._select("WHERE message_id = ? AND kind = 'project' ORDER BY created_at DESC", (message_id,))
        return next(iter(rows), None)

    async def show_draft(self, job_id: str, text: str) -> ProjectResult | None:
        """A member chose another of a posted reply's drafts: it becomes the reply the book keeps (rated and
        followed up from then on); None if the job has no such draft on record."""
        record = await self.get(job_id)
        result = record.result if record is not None else None
        if not isinstance(result, ProjectResult) or all(c.text != text for c in result.candidates):
            return None
        shown = result.model_copy(update={"reply": text, "candidates": [
            c.model_copy(update={"chosen": c.text == text}) for c in result.candidates]})
        await self._update(job_id, _among(JobState.POSTING, JobState.POSTED), result=shown.model_dump_json())
        return shown

    async def replacing(self, job_id: str) -> bool:
        """Whether a Regenerate of this job's answer is under way (one at a time: they share its message)."""
        async with self.db.execute(f"SELECT 1 FROM jobs WHERE replaces_job_id = ? {_among(*OPEN)} LIMIT 1",
                                   (job_id,)) as cursor:
            return await cursor.fetchone() is not None

    async def hiring(self, guild_id: int) -> bool:
        """Whether a hire is under way in this server: an introduction, or a request that hires first."""
        async with self.db.execute(f"SELECT 1 FROM jobs WHERE (kind = 'introduce' OR job LIKE ?) AND guild_id = ? "
                                   f"{_among(*OPEN)} LIMIT 1", ('%"hire":true%', guild_id)) as cursor:
            return await cursor.fetchone() is not None

    async def asked_by(self, user_id: int) -> list[str]:
        """Every job a member asked for (whose replies' ratings `/learn optout` forgets)."""
        async with self.db.execute("SELECT job_id FROM jobs WHERE user_id = ?", (user_id,)) as cursor:
            return [str(row[0]) for row in await cursor.fetchall()]

    async def recent_finishes(self, limit: int = 20) -> list[float]:
        """When the last jobs finished (newest first), for the queue's measured throughput."""
        finished = _among(JobState.DONE, JobState.POSTING, JobState.POSTED).removeprefix("AND ")
        async with self.db.execute(f"SELECT finished_at FROM jobs WHERE finished_at IS NOT NULL AND {finished} "
                                   "ORDER BY finished_at DESC LIMIT ?", (limit,)) as cur:
            return [float(row[0]) for row in await cur.fetchall()]


def read_result(job_id: str, kind: str, stored: str | None) -> Result | None:
    """A job's result as the book stored it, typed by the job's kind; None where there is none, or it
    cannot be read (said in the log). One stored before an introduction's `persona` was renamed
    `profile` reads as the same result under the new name."""
    if not stored:
        return None
    try:
        data = json.loads(stored)
        if "persona" in data and "profile" not in data:
            data["profile"] = data.pop("persona")
        return RESULT_OF_KIND[kind].model_validate(data)
    except (ValueError, KeyError) as exc:  # bad JSON, a shape no version wrote, an unknown kind
        log.error("job %s: its stored result cannot be read (%s)", job_id, exc)
        return None
