"""Taking a member's request: check the limits, write the job down, answer within Discord's 3 s, queue it.

`accept` is the whole front door, in this order:
1. the member's slot is taken (cooldown, their jobs in flight, the global cap): a refusal raises
   `RateLimited` before anything has been said, so the command's error handler answers privately;
2. the job is written to the book with where its answer goes (the interaction's token, the channel),
   and the book says its place in line;
3. the job is submitted to the broker, by the reconciler's `submit` (steps 1 to 3 one request at a time
   in this process, so that places in line and the queue's order are the order members asked in; across
   bot processes the limits are one atomic script in Redis, places in line follow the book's `seq`, and a
   server's own checks, one hire at a time, run in the one process serving its shard);
4. the member gets a status message at once, as the interaction's response, with their place in
   line and an estimate, and a Cancel button; a job that ended meanwhile (a fast worker) is closed
   by the reconciler's `close`, as every other end is.

From then on the reconciler follows the job from the book; if step 3 or 4 fails (the broker gone,
Discord refusing), it submits the job or sends the status on a later pass. `cancel` withdraws a job
that no worker has admitted, for good.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import discord

from implementor.bot.capacity import Jobs
from implementor.bot.limits import Limits
from implementor.bot.metrics import BotMetrics
from implementor.bot.poster import Poster, StatusView
from implementor.bot.reconciler import Reconciler
from implementor.bot.render import NO_PINGS, status_line
from implementor.config.log_setup import job_context
from implementor.contracts.errors import InputError, RateLimited
from implementor.contracts.jobs import Job
from implementor.contracts.states import WAITING, JobState, Stage
from implementor.store.jobbook import JobBook, JobRecord
from implementor.store.servers import Servers

log = logging.getLogger(__name__)

TOKEN_LIFETIME_S = 15 * 60  # an interaction's token lives 15 minutes


class JobRunner:
    def __init__(self, *, jobs: Jobs, book: JobBook, limits: Limits, poster: Poster, reconciler: Reconciler,
                 status_view: StatusView, clock: Callable[[], float] = time.time,
                 metrics: BotMetrics | None = None, servers: Servers | None = None, refuse_after_s: int = 0) -> None:
        self.jobs, self.book, self.limits, self.poster, self.servers = jobs, book, limits, poster, servers
        self.refuse_after_s = refuse_after_s  # no worker this long: new requests are refused (0: never)
        self.metrics = metrics or BotMetrics()
        self.reconciler, self.status_view, self.clock = reconciler, status_view, clock
        # Requests are taken one at a time, in the order they reach this process, so that a burst of members
        # gets places in line in the order they asked (other processes: see the module docstring).
        self._intake = asyncio.Lock()
        self.closing = False  # set when the bot drains (SIGTERM): new requests are refused, privately

    async def close_intake(self) -> None:
        """Refuse new requests, and wait for the one being taken (if any) to be in the book and queued."""
        self.closing = True
        async with self._intake:
            pass

    async def accept(self, job: Job, user_id: int, guild_id: int | None, channel_id: int, *,
                     interaction: discord.Interaction | None = None, reply_to: discord.Message | None = None,
                     colleague_id: int | None = None, cooldown: bool = True, one_hire: bool = False,
                     replaces: JobRecord | None = None, follows: str | None = None) -> None:
        """Take the request (see the module docstring); raises RateLimited, having said nothing yet.
        `one_hire`: refuse it while an introduction is under way in the server (checked in line, so two
        members asking at once hire one colleague). `replaces`: a Regenerate's, answered in place: its
        status, then its answer, take the place of that job's answer, in the same message. `follows`: a
        follow-up's, the job it follows; its status and its answer reply to `reply_to`."""
        with job_context(job.job_id):
            try:
                await self._accept(job, user_id, guild_id, channel_id, interaction=interaction, reply_to=reply_to,
                                   colleague_id=colleague_id, cooldown=cooldown, one_hire=one_hire,
                                   replaces=replaces, follows=follows)
            except RateLimited as refused:
                self.metrics.refusals.labels(refused.reason).inc()
                raise
            self.metrics.requests.labels(job.kind).inc()

    async def _accept(self, job: Job, user_id: int, guild_id: int | None, channel_id: int, *,
                      interaction: discord.Interaction | None, reply_to: discord.Message | None,
                      colleague_id: int | None, cooldown: bool, one_hire: bool,
                      replaces: JobRecord | None = None, follows: str | None = None) -> None:
        if self.closing:
            raise RateLimited("I am restarting and not taking requests for a moment. Try again in a minute.", 60,
                              "restarting")
        self._refuse_without_workers()
        async with self._intake:
            if (one_hire or getattr(job, "hire", False)) and guild_id is not None and await self.book.hiring(guild_id):
                if one_hire:
                    raise InputError("A colleague is being hired here already: they will introduce themselves in "
                                     "a moment.")
                job = job.model_copy(update={"hire": False})  # one hire per server: this one is answered plainly
            own = (await self.servers.get(guild_id)).cooldown_s if self.servers and guild_id else None
            await self._take_slot(user_id, job.job_id, cooldown, own)
            # A Regenerate edits the answer it replaces through the channel: its click's token owns no message.
            token = interaction.token if interaction is not None and replaces is None else None
            position = await self.book.add(job, guild_id, channel_id, user_id, token,
                                           self.clock() + TOKEN_LIFETIME_S, colleague_id, replaces, follows,
                                           reply_to.id if follows is not None and reply_to is not None else None)
            await self.reconciler.submit(job)  # in the same order as the places in line (it fails fast: no retries)
        eta = await self.reconciler.estimate(position, job.kind)
        text = status_line(Stage.QUEUED, position, eta, as_of=self.clock(), workers=self.reconciler.capacity.workers)
        try:
            if replaces is not None:
                message_id = await self._status_in_place(text, job.job_id, interaction)
            else:
                message_id = await self._first_status(text, job.job_id, interaction, reply_to, channel_id)
        except discord.HTTPException as exc:
            log.warning("could not answer for job %s (%s); its status and result will follow", job.job_id, exc)
        else:
            record = await self.book.set_status_message(job.job_id, message_id, text)
            stage = Stage.closing(record.status) if record is not None else None
            if record is not None and stage is not None:  # it ended while this status was on its way
                await self.reconciler.close(record, stage)
        self.reconciler.wake.set()

    def _refuse_without_workers(self) -> None:
        idle = self.reconciler.capacity.without_workers_for()
        if self.refuse_after_s and idle > self.refuse_after_s:
            raise RateLimited(f"No worker has been running for {idle / 60:.0f} minutes, so I cannot do this now; "
                              "the operators know (it is in my health check). Please try again later.", 300,
                              "no_worker")

    async def _take_slot(self, user_id: int, job_id: str, cooldown: bool, cooldown_s: int | None) -> None:
        try:
            await self.limits.take(user_id, job_id, cooldown=cooldown, cooldown_s=cooldown_s)
        except RateLimited:
            raise
        except Exception as exc:  # noqa: BLE001 - the limits live in Redis: no Redis, no new work, said kindly
            log.warning("cannot check the limits (%s); refusing a request for now", exc)
            raise RateLimited("I cannot take requests right now: the queue is out of reach. Try again in a minute.",
                              60, "broker_unreachable") from None

    async def _first_status(self, text: str, job_id: str, interaction: discord.Interaction | None,
                            reply_to: discord.Message | None, channel_id: int) -> int:
        view = self.status_view(job_id)
        if interaction is not None:
            response = await interaction.response.send_message(text, view=view, allowed_mentions=NO_PINGS)
            if response.message_id is not None:
                return response.message_id
            return (await interaction.original_response()).id
        if reply_to is not None:
            return (await reply_to.reply(text, view=view, allowed_mentions=NO_PINGS)).id
        record = await self.book.get(job_id)
        assert record is not None
        return (await self.poster.send(record, text, part="status", view=view)).id

    async def _status_in_place(self, text: str, job_id: str, interaction: discord.Interaction | None) -> int:
        """A Regenerate's status: the click is acknowledged with no message, and the answer it replaces
        shows the status above itself (with Cancel) until the new answer takes its place."""
        if interaction is not None:
            await interaction.response.defer()
        record = await self.book.get(job_id)
        assert record is not None and record.status_message_id is not None
        await self.poster.edit_status(record, text, final=False)
        return record.status_message_id

    async def cancel(self, job_id: str) -> bool:
        """Withdraw a job no worker has admitted: it will never run. False if it is running or over."""
        record = await self.book.get(job_id)
        if record is None or record.status not in WAITING:
            return False
        try:
            withdrawn = await asyncio.to_thread(self.jobs.withdraw, job_id, record.kind)
        except Exception as exc:  # noqa: BLE001 - say so rather than pretend
            log.warning("could not withdraw job %s (%s)", job_id, exc)
            raise RateLimited("I cannot reach the queue to cancel that right now; try again in a moment.", 10) \
                from None
        if withdrawn and await self.book.end(job_id, JobState.CANCELLED):
            await self.reconciler.close(record, Stage.CANCELLED)
            return True
        return False
