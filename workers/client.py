"""Submitting jobs and collecting results, for the bot and the command line; never imports torch.

The caller makes the job (and so its id); `submit` sends it to the `gpu` queue under that id, so a
resubmission of the same job is recognised by the workers' ledger. `wait` polls without blocking an
asyncio event loop (the bot's); `result` blocks (the command line's).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from celery import Celery
from celery.result import AsyncResult
from pydantic import TypeAdapter

from contracts.errors import ImplementorError, JobTimeout
from contracts.jobs import IntroduceJob, ProjectJob, Result
from workers.app import GPU_QUEUE

_RESULT: TypeAdapter[Result] = TypeAdapter(Result)
Progress = Callable[[str], None]


class JobClient:
    def __init__(self, app: Celery) -> None:
        self.app = app

    def submit(self, job: IntroduceJob | ProjectJob) -> str:
        self.app.send_task(f"implementor.{job.kind}", kwargs={"job": job.model_dump(mode="json")},
                           task_id=job.job_id, queue=GPU_QUEUE)
        return job.job_id

    def stage(self, job_id: str) -> str:
        """"queued", "loading models", "generating" or "done", as far as the result backend knows."""
        async_result = AsyncResult(job_id, app=self.app)
        state = async_result.state
        if state == "PROGRESS" and isinstance(async_result.info, dict):
            return str(async_result.info.get("stage", "generating"))
        return {"SUCCESS": "done", "STARTED": "generating", "FAILURE": "done"}.get(state, "queued")

    def _finished(self, job_id: str) -> Result | None:
        async_result = AsyncResult(job_id, app=self.app)
        if async_result.state == "SUCCESS":
            return _RESULT.validate_python(async_result.result)
        if async_result.state == "FAILURE":
            raise ImplementorError(f"job {job_id} failed in the worker: {async_result.result!r}")
        return None

    def result(self, job_id: str, timeout: float, on_progress: Progress | None = None, poll: float = 0.1) -> Result:
        """Block until the job's result arrives (command line only; the bot uses `wait`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            finished = self._finished(job_id)
            if finished is not None:
                return finished
            if on_progress is not None:
                on_progress(self.stage(job_id))
            time.sleep(poll)
        raise JobTimeout(f"job {job_id} did not finish within {timeout:.0f} s")

    async def wait(self, job_id: str, timeout: float, on_progress: Progress | None = None,
                   poll: float = 0.5) -> Result:
        """Await the job's result without blocking the event loop (backend calls run in a thread)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            finished = await asyncio.to_thread(self._finished, job_id)
            if finished is not None:
                return finished
            if on_progress is not None:
                stage = await asyncio.to_thread(self.stage, job_id)
                if stage != last:
                    on_progress(stage)
                    last = stage
            await asyncio.sleep(poll)
        raise JobTimeout(f"job {job_id} did not finish within {timeout:.0f} s")

    def queue_length(self) -> int:
        """Jobs waiting in the `gpu` queue (not yet taken by a worker)."""
        with self.app.connection_for_read() as connection:
            try:
                return int(connection.default_channel.queue_declare(GPU_QUEUE, passive=True).message_count)
            except connection.channel_errors:
                return 0  # the queue exists once the first job arrives; until then nothing waits

    def close(self) -> None:
        """Stop listening for results and release connections (before the broker goes away)."""
        consumer = getattr(self.app.backend, "result_consumer", None)
        if consumer is not None:
            consumer.stop()
            # Results collected later (AsyncResult.__del__) unsubscribe through the pub/sub connection;
            # without it they skip that, instead of retrying against a broker that may be gone.
            consumer._pubsub = None
        self.app.close()

    def revoke(self, job_id: str) -> None:
        """Withdraw a job that has not started; one already running finishes."""
        self.app.control.revoke(job_id)
