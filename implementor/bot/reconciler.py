"""The reconciler: every accepted job is driven to exactly one end from the book, not from a coroutine's memory.

It runs at start-up, then every `interval_s` and whenever a job is accepted, and again as soon as the broker
is back after an outage. Each pass claims its open jobs in the book (`JobBook.claim`: any number of bot
processes share the work, none does a job twice), asks the broker where they stand, and moves each one on:

- a job the book accepted but the broker never got (the bot died before, or the broker was away) is
  submitted, once the front door has had its chance to do it (through `submit`, as the front door does);
- a finished job's result is recorded in the book, typed (an introduction's colleague is hired then, once
  per job, see `results.hire`, and so is the colleague a project job hired first), and posted, once:
  claimed in the book, sent, recorded (a claim left by a crash is checked against the channel before
  anything is sent again); a failed or withdrawn one ends with an honest status;
- a waiting or running job's status message shows its real place in the queue, how many workers serve
  it, and an estimate from measured job times (`estimate`); a running one shows its stage and a
  progress bar (`status.py`: edited only when that changes, the bar at most every few seconds); with
  no worker alive the status says so instead of guessing, and `no_worker_since` tells the front door,
  the healthcheck and the metrics;
- a job the broker has lost (not queued, taken, running or finished for `lost_after_s`), or at once one whose
  worker stopped beating (`orphaned`, `workers/liveness.py`), is submitted again under its id (one answer);
- a job neither finished nor failed after `expire_after_s` ends as expired, and a finished one that
  Discord would not let us post for as long ends as failed (its slot back, the cause in the log).
A slow queue is never a failure, and losing the broker for a moment changes nothing: the pass is retried
with backoff. Whatever ends a job gives the member's slot back (retried until it works).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord

from implementor.bot.capacity import Capacity, Jobs
from implementor.bot.limits import Limits
from implementor.bot.poster import Poster
from implementor.bot.status import ACCEPT_GRACE_S, StatusMessages
from implementor.config.log_setup import job_context
from implementor.contracts.jobs import IntroduceResult, Job, JobView, ProjectResult
from implementor.contracts.states import WAITING, JobState, Stage
from implementor.store.jobbook import JobBook, JobRecord

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0


# A finished introduction's colleague joins the roster; so does the one a project job hired first.
Hire = Callable[[JobRecord, IntroduceResult | ProjectResult], Awaitable[None]]


@dataclass
class PassReport:
    finished_at: float
    open_jobs: int
    broker_ok: bool
    workers: int | None = None  # worker processes serving the queue; None: not known (the broker is away)
    no_worker_since: float | None = None


class Reconciler:
    def __init__(self, *, jobs: Jobs, book: JobBook, limits: Limits, poster: Poster, hire: Hire,
                 interval_s: float = 1.0, expire_after_s: float = 86400.0, lost_after_s: float = 30.0,
                 clock: Callable[[], float] = time.time, on_pass: Callable[[PassReport], None] | None = None,
                 batch_size: int = 1) -> None:
        self.jobs, self.book, self.limits, self.poster, self.hire = jobs, book, limits, poster, hire
        self.interval_s, self.expire_after_s, self.lost_after_s = interval_s, expire_after_s, lost_after_s
        self.clock, self.on_pass, self.wake = clock, on_pass, asyncio.Event()
        self.broker_ok, self.stopping = True, False
        self.status = StatusMessages(book, poster)
        self.capacity = Capacity(jobs, book, clock, batch_size)

    def stop(self) -> None:
        """Finish the pass under way (or none), then return from `run`: how the bot drains on SIGTERM."""
        self.stopping = True
        self.wake.set()

    async def run(self) -> None:
        """Pass after pass until stopped (errors only slow it down); its claims renewed every third of a lease."""
        renewing = asyncio.create_task(self._renew_claims(), name="renew-claims")
        try:
            await self._passes()
        finally:
            renewing.cancel()

    async def _renew_claims(self) -> None:
        while True:
            await asyncio.sleep(self.book.claims.lease_s / 3)
            try:
                await self.book.renew()
            except Exception as exc:  # noqa: BLE001 - the store away for a moment: the next pass claims again
                log.warning("could not renew this process's claims (%s: %s)", type(exc).__name__, exc)

    async def _passes(self) -> None:
        delay = self.interval_s
        while not self.stopping:
            try:
                await self.pass_once()
                delay = self.interval_s
            except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure; it says which
                delay = min(MAX_BACKOFF_S, max(delay * 2, self.interval_s))
                log.warning("reconciler pass failed (%s: %s); next try in %.0f s", type(exc).__name__, exc, delay)
            if self.stopping:
                return
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=delay)

    async def pass_once(self) -> None:
        await self._return_slots()
        records = await self.book.claim()
        now = self.clock()
        for record in [r for r in records if r.status is JobState.ACCEPTED and now - r.created_at > ACCEPT_GRACE_S]:
            await self._submit(record)
        views = await self._snapshot([r.job_id for r in records if r.status in WAITING])
        await self.capacity.count()
        for record in records:
            try:
                with job_context(record.job_id):  # every line logged about it names it
                    await self._settle(await self.book.get(record.job_id) or record, views)
            except discord.HTTPException as exc:
                # Discord refused this job's message: it stays as the book has it and the next pass tries again;
                # the jobs after it in this pass must not wait for that (nor for ever, if a channel keeps refusing).
                log.warning("could not post job %s yet (%s); will try again", record.job_id, exc)
        if self.on_pass is not None:
            self.on_pass(PassReport(self.clock(), len(records), self.broker_ok, self.capacity.workers,
                                    self.capacity.no_worker_since))

    async def _snapshot(self, job_ids: list[str]) -> dict[str, JobView] | None:
        """Where the jobs stand, or None while the broker cannot be reached (the statuses say so)."""
        try:
            views = await asyncio.to_thread(self.jobs.snapshot, job_ids)
        except Exception as exc:  # noqa: BLE001 - any broker trouble: keep every job as it is, retry later
            if self.broker_ok:
                log.warning("the broker cannot be reached (%s); jobs stay as they are until it is back", exc)
            self.broker_ok = False
            return None
        if not self.broker_ok:
            log.info("the broker is back; following %d jobs again", len(job_ids))
        self.broker_ok = True
        return views

    async def _settle(self, record: JobRecord, views: dict[str, JobView] | None) -> None:
        if record.status in (JobState.DONE, JobState.POSTING):
            if self.clock() - (record.finished_at or record.created_at) <= self.expire_after_s:
                await self._post(record)
            elif await self.book.give_up(record.job_id, "Discord refused its post until it expired"):
                log.error("job %s: Discord refused its post until it expired (does the bot still have Send "
                          "Messages in channel %s?); giving up", record.job_id, record.channel_id)
                await self.close(record, Stage.FAILED)
        elif record.status in WAITING:
            if self.clock() - record.created_at > self.expire_after_s:
                await self._end(record, JobState.EXPIRED, "nothing came back before it expired")
            elif views is None:
                await self.status.show(record, self.clock(), Stage.UNREACHABLE)
            elif record.job_id in views:
                await self._follow(record, views[record.job_id])

    async def _follow(self, record: JobRecord, view: JobView) -> None:
        if view.state == "done":
            await self._finished(record, view)
        elif view.state == "unknown":
            await self._lost(record)
        elif view.state == "orphaned":  # the worker holding it is gone
            log.warning("job %s: its worker %s is gone; submitting it again", record.job_id, view.worker)
            await self._submit(record, dead_worker=view.worker or "")
        else:
            if record.lost_since is not None:
                await self.book.set_lost_since(record.job_id, None)
            now = self.clock()
            if view.state == "running":  # the worker's stage, as free text: one this side knows, or "working"
                await self.status.show(record, now, Stage.running(view.stage), progress=view.progress)
            elif view.state == "reserved":
                await self.status.show(record, now, Stage.RESERVED)
            else:
                eta = await self.estimate(view.position or 1, record.kind)
                await self.status.show(record, now, Stage.QUEUED, view.position, eta, workers=self.capacity.workers)

    async def _finished(self, record: JobRecord, view: JobView) -> None:
        result = view.result
        if result is None:
            await self._end(record, JobState.FAILED, view.stage or "the worker could not run it")
        elif result.status == "ok":
            # Before the book has it: a crash in between hires again, which the roster makes the same one hire.
            if isinstance(result, IntroduceResult) or (isinstance(result, ProjectResult) and result.profile):
                await self.hire(record, result)
            await self.book.store_result(record.job_id, result)
            fresh = await self.book.get(record.job_id)
            if fresh is not None:
                await self._post(fresh)
        elif result.status == "cancelled":
            await self._end(record, JobState.CANCELLED)
        else:
            log.warning("job %s failed: %s", record.job_id, result.error)
            await self._end(record, JobState.FAILED, result.error)

    async def _lost(self, record: JobRecord) -> None:
        now = self.clock()
        if record.status is JobState.ACCEPTED:
            return  # not on the broker yet: the next pass submits it
        if record.lost_since is None:
            await self.book.set_lost_since(record.job_id, now)
        elif now - record.lost_since >= self.lost_after_s:
            log.warning("job %s is nowhere on the broker; submitting it again", record.job_id)
            await self._submit(record)
            await self.book.set_lost_since(record.job_id, None)

    async def _submit(self, record: JobRecord, dead_worker: str | None = None) -> None:
        job = record.queued_job()
        if job is None:
            await self._end(record, JobState.FAILED, "the job was not recorded in full")
            return
        await self.submit(job, dead_worker)

    async def submit(self, job: Job, dead_worker: str | None = None) -> None:
        """Put a job from the book on the broker (again: under its id, which the workers' ledger turns into one
        answer). It fails fast: while the broker is away the job stays accepted, and a later pass tries again."""
        try:
            # An orphan's dead holder is forgotten first, so that the next pass does not resubmit it again.
            call = (self.jobs.submit, job) if dead_worker is None else (self.jobs.resubmit, job, dead_worker)
            await asyncio.to_thread(*call)
        except Exception as exc:  # noqa: BLE001 - the broker is down: the job stays accepted, tried again
            log.warning("could not queue job %s yet (%s); will try again", job.job_id, exc)
            return
        await self.book.mark_submitted(job.job_id)

    async def estimate(self, position: int, kind: str = "project") -> float:
        """Seconds until a job at `position` is done (`capacity.py`)."""
        return await self.capacity.estimate(position, kind)

    # --- the member's messages ---------------------------------------------------------------------

    async def _post(self, record: JobRecord) -> None:
        """Post a finished job's result exactly once, then its follow-ups (a claim found after a crash is checked).

        The job stays `posting` until its last follow-up is out: a follow-up Discord refuses is sent by
        a later pass, from the first one not sent, and the result itself is never posted again. (Marked
        `posted` at once, the job would leave the open jobs with its follow-ups and its status unfinished.)
        """
        result = record.result
        if result is None:  # stored in a shape no version of ours wrote (the book logged it): it cannot be posted
            if await self.book.give_up(record.job_id, "its result could not be read"):
                await self.close(record, Stage.FAILED)
            return
        message_id = record.message_id  # set while posting: the result went out, follow-ups may not have
        if record.status == "posting":
            if message_id is None:
                message_id = await self._already_posted(record)
        elif not await self.book.claim_post(record.job_id):
            return
        if message_id is None:
            message_id, extras = await self.poster.post_result(record, result)  # raising: stays claimed
            await self.book.record_post(record.job_id, message_id)
        else:
            extras = await self.poster.follow_ups(record, result)
        for i, text in enumerate(extras[record.extras_sent :], record.extras_sent):
            await self.poster.send(record, text, part=f"extra-{i + 1}")
            await self.book.count_extras(record.job_id, i + 1)
        # The status goes before the job leaves the open ones: a crash in between deletes it again (gone is done).
        await self.status.remove(await self.book.get(record.job_id) or record)
        await self.book.mark_posted(record.job_id, message_id)
        await self._give_back(record)

    async def _already_posted(self, record: JobRecord) -> int | None:
        try:
            return await self.poster.find_posted(record)
        except discord.HTTPException as exc:  # cannot read the channel: post rather than stay silent
            log.warning("could not check whether job %s was posted (%s); posting it", record.job_id, exc)
            return None

    async def _end(self, record: JobRecord, status: JobState, reason: str | None = None) -> None:
        if status is JobState.EXPIRED:
            try:  # so that a worker never runs it later for nobody
                await asyncio.to_thread(self.jobs.withdraw, record.job_id, record.kind)
            except Exception as exc:  # noqa: BLE001 - the broker is away; the job ends all the same
                log.info("could not withdraw expired job %s (%s)", record.job_id, exc)
        if await self.book.end(record.job_id, status, reason):  # the reason is the operator's, in the book
            stage = Stage.closing(status)
            assert stage is not None, status  # the book ends a job only as failed, cancelled or expired
            await self.close(record, stage)

    async def close(self, record: JobRecord, stage: Stage) -> None:
        """A job is over: its status says how, and the member's slot comes back."""
        await self.status.close(record, stage)
        await self._give_back(record)

    async def _give_back(self, record: JobRecord) -> None:
        try:
            await self.limits.give_back(record.user_id, record.job_id)
        except Exception as exc:  # noqa: BLE001 - Redis away: the next pass returns it
            log.info("could not give back the slot of job %s yet (%s)", record.job_id, exc)
            return
        await self.book.slot_returned(record.job_id)

    async def _return_slots(self) -> None:
        for record in await self.book.slots_to_return():
            await self._give_back(record)
