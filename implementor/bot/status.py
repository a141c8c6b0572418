"""A job's status message while it waits or runs, kept true without flooding Discord.

The reconciler shows each open job's stage on every pass (`show`): the message is sent if it never
went out (once the front door has had `ACCEPT_GRACE_S` to send the first), and edited only when what
it says changes, or once every `REFRESH_S` (an estimate says when it was made). What it last showed, and
when, is kept in the book (`status_key`, `status_at`), not in memory, so that whichever bot process holds
the job next edits it as the last one left it. `close` says how a
job that did not answer ended, and takes the Cancel button off; a job that answered loses its status
message instead (`remove`): the result, posted as its own message so that the member who asked is
pinged once, is then the one message the request leaves. Discord refusing is logged and left to the
next pass.
"""

from __future__ import annotations

import json
import logging

import discord

from implementor.bot.poster import Poster
from implementor.bot.render import status_line
from implementor.contracts.states import Stage
from implementor.store.jobbook import JobBook, JobRecord

log = logging.getLogger(__name__)

REFRESH_S = 60.0  # a status message whose estimate has not changed is still refreshed this often
PROGRESS_EDIT_S = 3.0  # a progress bar moves at most this often (Discord allows a channel about 5 edits in 5 s)
ACCEPT_GRACE_S = 10.0  # the front door submits what it writes down; one still unsubmitted this long is ours


class StatusMessages:
    def __init__(self, book: JobBook, poster: Poster) -> None:
        self.book, self.poster = book, poster

    async def show(self, record: JobRecord, now: float, stage: Stage, position: int | None = None,
                   eta: float | None = None, progress: float | None = None, workers: int | None = None) -> None:
        """Bring the status message up to date (and send it, if it never went out). A moving progress bar
        is edited at most every `PROGRESS_EDIT_S`; anything else that changes, at once."""
        if record.status_message_id is None and now - record.created_at < ACCEPT_GRACE_S:
            return  # the front door is still sending the first one
        cells = None if progress is None else int(progress * 10)
        key = [str(stage), position, eta, workers, cells]
        if record.status_message_id is not None and record.status_key and record.status_at is not None:
            shown, since = json.loads(record.status_key), now - record.status_at
            if shown == key and since < REFRESH_S:
                return
            if shown[:4] == key[:4] and since < PROGRESS_EDIT_S:
                return  # only the bar moved, and it moved a moment ago
        text = (status_line(stage, position, eta, as_of=now, workers=workers) if stage is Stage.QUEUED
                else status_line(stage, as_of=now if stage in (Stage.RESERVED, Stage.UNREACHABLE) else None,
                                 progress=progress))
        try:
            message_id = None
            if record.status_message_id is None:
                message_id = await self.poster.send_status(record, text)
            else:
                await self.poster.edit_status(record, text, final=False)
        except discord.HTTPException as exc:
            log.info("could not update the status of job %s (%s); will try again", record.job_id, exc)
            return
        await self.book.set_status_message(record.job_id, message_id, text, json.dumps(key), now)

    async def remove(self, record: JobRecord) -> None:
        """The job answered: its status message goes (Discord refusing raises, for the caller to retry)."""
        if record.status_message_id is not None and not record.replaces_job_id:  # a Regenerate's is its answer
            await self.poster.delete_status(record)

    async def close(self, record: JobRecord, stage: Stage) -> None:
        """The job is over: its status says how, without a Cancel button (a job with none sent: nothing);
        one that answered loses its status message (`remove`)."""
        if record.status_message_id is None:
            return
        try:
            if stage is Stage.DONE:
                await self.remove(record)
                return
            await self.poster.edit_status(record, status_line(stage), final=True)
        except discord.HTTPException as exc:
            log.info("could not close the status of job %s (%s)", record.job_id, exc)
