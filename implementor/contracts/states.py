"""A job's state in the bot's book, and the stage its status message shows: the two vocabularies, once.

`JobState` is where a job stands in the bot's book (`implementor/store/jobbook.py` is its only writer):

    accepted -> queued -> done -> posting -> posted -> deleted    (accepted: written, not yet on the broker)
        \\-------\\--------\\------> failed | cancelled | expired

`Stage` is what the member reads in the job's status message (`implementor/bot/render.py`'s `status_line`): where
it waits, what the worker is doing, or how it ended. A worker reports its stage as free text on the
broker; `Stage.running` reads it, and a stage this side does not know reads as `WORKING`: a job
still running is never shown as done.

A worker running a batch reports, in turn, `Stage.LOADING` (its first batch), `Stage.DRAFTING` (with
how far through the drafting it is, `JobView.progress`) and `Stage.JUDGING`; an older worker says
`generating` for both.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    ACCEPTED = "accepted"  # written in the book, not yet on the broker
    QUEUED = "queued"  # on the broker: waiting, taken or running
    DONE = "done"  # a result arrived, not yet posted
    POSTING = "posting"  # claimed by the one coroutine that posts it (and its follow-ups)
    POSTED = "posted"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    DELETED = "deleted"  # a posted result someone deleted (its drafts went with it)

    @property
    def open(self) -> bool:
        """Still the reconciler's to drive to an end."""
        return self in OPEN


OPEN = (JobState.ACCEPTED, JobState.QUEUED, JobState.DONE, JobState.POSTING)
ENDS = (JobState.POSTED, JobState.FAILED, JobState.CANCELLED, JobState.EXPIRED, JobState.DELETED)
WAITING = (JobState.ACCEPTED, JobState.QUEUED)  # no result yet: cancellable, and followed on the broker


class Stage(StrEnum):
    QUEUED = "queued"
    RESERVED = "reserved"  # a worker has taken it and waits for its batch to start
    UNREACHABLE = "unreachable"  # the broker cannot be reached: no estimate
    LOADING = "loading models"  # the worker's first batch: its models are loading
    DRAFTING = "writing drafts"  # the writer drafts (JobView.progress: the share of its token budget done)
    JUDGING = "judging drafts"  # the reranker scores the drafts and picks one
    GENERATING = "generating"  # drafting and judging, from a worker that does not tell them apart
    WORKING = "working"  # running, at a stage the worker named and this side does not know
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"
    EXPIRED = "expired"

    @classmethod
    def named(cls, text: str) -> Stage:
        """The stage spelled `text`; text that names no stage reads as `WORKING`, never as an end."""
        try:
            return cls(text)
        except ValueError:
            return cls.WORKING

    @classmethod
    def running(cls, reported: str | None) -> Stage:
        """The stage of a job a worker is running, from what the worker reported (nothing: generating)."""
        if reported is None:
            return cls.GENERATING
        if reported in (cls.LOADING, cls.DRAFTING, cls.JUDGING, cls.GENERATING):
            return cls(reported)
        return cls.WORKING  # never "done" (nor any end) for a job still running

    @classmethod
    def closing(cls, state: JobState) -> Stage | None:
        """What the status message of a job in `state` says once it is over; None while it is not over
        (or, deleted, when its status was closed as done before the result was deleted)."""
        return _CLOSING[state]


_CLOSING: dict[JobState, Stage | None] = {
    JobState.ACCEPTED: None, JobState.QUEUED: None, JobState.DONE: None, JobState.POSTING: None,
    JobState.POSTED: Stage.DONE, JobState.FAILED: Stage.FAILED, JobState.CANCELLED: Stage.CANCELLED,
    JobState.EXPIRED: Stage.EXPIRED, JobState.DELETED: None,
}
