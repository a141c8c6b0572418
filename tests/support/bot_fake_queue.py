"""The queue and its workers as the bot's unit tests see them (`FakeJobs`), the results they make up,
and a clock a test moves on. No broker, no workers.

`FakeJobs` is what `implementor.bot.reconciler.Jobs` asks for: results are made up as soon as a job is
submitted, or held (`hold = True`) until `release`; `down = True` makes every call raise
ConnectionError; `lose` makes a job vanish (its snapshot says unknown) until it is submitted again;
`start` has a worker admit a job, which can then no longer be withdrawn; `kill` has that worker die
(its jobs orphaned until they are resubmitted).
"""

from __future__ import annotations

import base64
import io
import time
from typing import Any

from PIL import Image

from implementor.contracts.jobs import (
    IntroduceJob,
    IntroduceResult,
    JobView,
    Profile,
    ProjectJob,
    ProjectResult,
    Result,
)
from implementor.contracts.scores import CandidateScore

Job = IntroduceJob | ProjectJob
REQUEST = "Could someone help us plan the spring launch at Acme?"
REPLY = "I can help: I planned the same launch at Acme. Shall we talk on Monday? @here"
CV = "## Profile\nI plan campaigns. @everyone <@123>\n\n## Skills\n- plan\n- write\n- sell\n\n## Experience\n" \
     "- Lead Planner, Acme (2020-present). Planned things.\n\n## Education\n- BA in Marketing, Leeds (2015)"


def long_cv(skills: int = 300) -> str:
    """A CV far beyond one embed: its overflow follows as messages."""
    return ("## Profile\n" + "I plan campaigns and count the results. " * 150 + "\n\n## Skills\n"
            + "\n".join(f"- skill number {i} with a long descriptive label" for i in range(skills))
            + "\n\n## Experience\n" + "\n".join(f"- Role {i}, Company {i} (2000-2001). Did work." for i in range(80))
            + "\n\n## Education\n- BA in Things, University of Leeds (1999)")


def png() -> str:
    buffer = io.BytesIO()
    Image.new("L", (32, 32), 128).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


class Clock:
    """Real time plus an offset the test moves on (the book stamps jobs with the real time)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class FakeJobs:
    """The queue and its workers, as the bot's reconciler and runner see them."""

    def __init__(self) -> None:
        self.submitted: list[Job] = []  # every submission, in order, resubmissions included
        self.withdraw_calls: list[str] = []  # every job the bot asked to withdraw
        self.harvests_requested = 0  # harvests the bot asked the learner for (/learn enable)
        self.forgets_requested = 0  # removals of opted-out rows the bot asked the learner for (/learn optout)
        self.withdrawn: list[str] = []  # those withdrawn for good (no worker had admitted them)
        self.hold = False  # True: jobs wait in the queue until `release`
        self.down = False  # True: the broker cannot be reached
        self.reply = REPLY
        self.cv = CV
        self.waiting: list[str] = []  # queued, oldest first
        self.started: set[str] = set()  # admitted by a worker: running
        self.running_stage: str | None = "generating"  # what the worker running a job says it is doing
        self.running_progress: float | None = None  # and how far through that stage it is
        self.workers = 1  # worker processes serving the queue (their heartbeats)
        self.seconds: dict[str, float] = {}  # the median of measured job times, per kind
        self.lost: set[str] = set()
        self.orphaned: set[str] = set()  # held by a worker that died
        self.resubmitted: list[tuple[str, str]] = []  # (job id, the dead worker named)
        self.results: dict[str, Result] = {}
        self.jobs: dict[str, Job] = {}

    def _reachable(self) -> None:
        if self.down:
            raise ConnectionError("Error 111 connecting to the broker. Connection refused.")

    def submit(self, job: Job) -> str:
        self._reachable()
        self.submitted.append(job)
        self.jobs[job.job_id] = job
        self.lost.discard(job.job_id)
        if job.job_id in self.results or job.job_id in self.started or job.job_id in self.waiting:
            return job.job_id  # the ledger knows it: one answer, however often it is submitted
        if self.hold:
            self.waiting.append(job.job_id)
        else:
            self.results[job.job_id] = self.result_for(job)
        return job.job_id

    def resubmit(self, job: Job, dead_worker: str) -> str:
        self._reachable()
        self.resubmitted.append((job.job_id, dead_worker))
        if job.job_id in self.orphaned:  # a live worker takes the new copy
            self.orphaned.discard(job.job_id)
            self.started.discard(job.job_id)
            self.waiting.append(job.job_id)
        return self.submit(job)

    def snapshot(self, job_ids: Any) -> dict[str, JobView]:
        if not job_ids:
            return {}
        self._reachable()
        return {job_id: self._view(job_id) for job_id in job_ids}

    def _view(self, job_id: str) -> JobView:
        if job_id in self.lost or job_id not in self.jobs:
            return JobView(job_id=job_id, state="unknown")
        if job_id in self.results:
            return JobView(job_id=job_id, state="done", result=self.results[job_id])
        if job_id in self.orphaned:
            return JobView(job_id=job_id, state="orphaned", worker="gpu1@host/41")
        if job_id in self.started:
            return JobView(job_id=job_id, state="running", stage=self.running_stage, progress=self.running_progress)
        return JobView(job_id=job_id, state="queued", position=len(self.started) + self.waiting.index(job_id) + 1)

    def request_harvest(self) -> None:
        self._reachable()
        self.harvests_requested += 1

    def request_forget(self) -> None:
        self._reachable()
        self.forgets_requested += 1

    def live_workers(self) -> int:
        self._reachable()
        return self.workers

    def job_seconds(self, kind: str) -> float | None:
        self._reachable()
        return self.seconds.get(kind)

    def withdraw(self, job_id: str, kind: str) -> bool:
        self._reachable()
        self.withdraw_calls.append(job_id)
        if job_id in self.started or job_id in self.results:
            return False
        self.withdrawn.append(job_id)
        if job_id in self.waiting:
            self.waiting.remove(job_id)
        job = self.jobs.get(job_id)
        if job is not None:
            self.results[job_id] = type(self.result_for(job))(job_id=job_id, status="cancelled", error="cancelled")
        return True

    # --- what the test makes happen ---------------------------------------------------------------

    def start(self, job_id: str) -> None:
        """A worker admits the job: it runs, and can no longer be withdrawn."""
        self.waiting.remove(job_id)
        self.started.add(job_id)

    def kill(self, job_id: str) -> None:
        """The worker running the job dies: it stops beating, and the job will not finish there."""
        self.orphaned.add(job_id)

    def release(self, job_id: str | None = None, error: str | None = None) -> None:
        """Finish one held job (or all of them): with a result, or with `error`."""
        for held in [job_id] if job_id else [*self.waiting, *self.started]:
            if held in self.waiting:
                self.waiting.remove(held)
            self.started.discard(held)
            self.results[held] = self.result_for(self.jobs[held], error)

    def lose(self, job_id: str) -> None:
        """The broker forgets the job (a Redis restart without persistence)."""
        self.lost.add(job_id)
        if job_id in self.waiting:
            self.waiting.remove(job_id)

    def result_for(self, job: Job, error: str | None = None) -> Result:
        if error is not None:
            cls = IntroduceResult if isinstance(job, IntroduceJob) else ProjectResult
            return cls(job_id=job.job_id, status="error", error=error)
        scores = [CandidateScore(text=self.reply, p_real=0.95, quality=4.2, chosen=True, reason="chosen"),
                  CandidateScore(text="No.", p_real=0.2, quality=1.1, chosen=False, reason="too short")]
        if isinstance(job, IntroduceJob):
            profile = Profile(name="Ada Lovelace", title="Data Scientist", seed=7, cv=self.cv, png_base64=png())
            return IntroduceResult(job_id=job.job_id, status="ok", profile=profile, candidates=scores)
        return ProjectResult(job_id=job.job_id, status="ok", reply=self.reply, candidates=scores)
