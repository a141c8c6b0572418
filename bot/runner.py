"""Running one job for Discord: take a slot, queue it, keep a status message, post the result once.

The command handlers defer (Discord wants an answer within 3 s), then hand the job here and return.
A background task waits for the result without blocking the event loop, edits the status message
as the job moves (queued with its position and an estimate, generating, done), and posts the
result: as a follow-up to the interaction while its token lives (15 minutes), as a plain channel
message after that. The job ledger makes sure a result is posted once.

The runner is given what it uses (the queue, the store, the limits, how long to wait, and the status
message's Cancel button) by whoever wires the bot; it knows nothing of the bot itself.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from bot.limits import Limits
from bot.render import NO_PINGS, Rendered, status_line
from bot.store import Store
from contracts.jobs import IntroduceJob, ProjectJob, Result

log = logging.getLogger(__name__)

TOKEN_LIFETIME_S = 15 * 60 - 30  # an interaction token lasts 15 minutes; leave a margin
DEFAULT_JOB_S = 15.0  # the estimate before any job has finished


class Jobs(Protocol):
    """What the bot needs from the queue (workers.client.JobClient, or a test double)."""

    def submit(self, job: IntroduceJob | ProjectJob) -> str: ...

    async def wait(self, job_id: str, timeout: float, on_progress: Callable[[str], None] | None = None,
                   poll: float = 0.5) -> Result: ...

    def queue_length(self) -> int: ...

    def revoke(self, job_id: str) -> None: ...


@dataclass
class Destination:
    """Where a job's messages go: the interaction (while its token lives) or the channel."""

    channel: discord.abc.Messageable
    interaction: discord.Interaction | None = None
    started: float = 0.0

    async def send(self, content: str | None = None, **kwargs: Any) -> discord.Message:
        kwargs.setdefault("allowed_mentions", NO_PINGS)
        if self.interaction is not None and time.monotonic() - self.started < TOKEN_LIFETIME_S:
            sent: discord.Message = await self.interaction.followup.send(content or discord.utils.MISSING,
                                                                         wait=True, **kwargs)
            return sent
        return await self.channel.send(content, **kwargs)


Post = Callable[[Result], Awaitable[tuple[Rendered, list[discord.File], discord.ui.View | None]]]
StatusView = Callable[[str], discord.ui.View]  # a job id -> the buttons its status message carries (Cancel)


class JobRunner:
    def __init__(self, *, jobs: Jobs, store: Store, limits: Limits, wait_timeout_s: float,
                 status_view: StatusView) -> None:
        self.jobs, self.store, self.limits = jobs, store, limits
        self.wait_timeout_s = wait_timeout_s  # how long to wait for a result before calling the job failed
        self.status_view = status_view
        self.running: dict[str, asyncio.Task[None]] = {}

    async def estimate(self) -> tuple[int, float]:
        """Position the next job will take in the queue, and seconds until it is done."""
        waiting = await asyncio.to_thread(self.jobs.queue_length)
        durations = await self.store.recent_durations()
        typical = statistics.median(durations) if durations else DEFAULT_JOB_S
        return waiting + 1, (waiting + 1) * typical

    async def start(self, job: IntroduceJob | ProjectJob, user_id: int, guild_id: int | None,
                    destination: Destination, post: Post) -> None:
        """Take a slot, queue the job and follow it in the background (raises RateLimited)."""
        await self.limits.take(user_id, job.job_id)
        try:
            request = job.request if isinstance(job, ProjectJob) else None
            await self.store.add_job(job.job_id, job.kind, guild_id, getattr(destination.channel, "id", 0),
                                     user_id, request)
            position, eta = await self.estimate()
            await asyncio.to_thread(self.jobs.submit, job)
        except Exception:
            await self.limits.give_back(user_id, job.job_id)
            raise
        status = await destination.send(status_line("queued", position, eta), view=self.status_view(job.job_id))
        task = asyncio.create_task(self._follow(job.job_id, user_id, destination, status, post))
        self.running[job.job_id] = task
        task.add_done_callback(lambda _: self.running.pop(job.job_id, None))

    async def _follow(self, job_id: str, user_id: int, destination: Destination, status: discord.Message,
                      post: Post) -> None:
        def on_progress(stage: str) -> None:
            if stage in ("loading models", "generating"):
                asyncio.get_running_loop().create_task(self._edit(status, status_line(stage)))

        try:
            result = await self.jobs.wait(job_id, timeout=self.wait_timeout_s, on_progress=on_progress)
            await self.store.finish_job(job_id, "done" if result.status == "ok" else "failed",
                                        result.model_dump(mode="json"))
            if result.status != "ok":
                log.warning("job %s failed: %s", job_id, result.error)
                await self._edit(status, status_line("failed"))
                return
            rendered, files, view = await post(result)
            message = await destination.send(embed=rendered.embed, files=files, view=view or discord.utils.MISSING)
            if not await self.store.mark_posted(job_id, message.id):
                await message.delete()  # a second delivery of the same result: keep the first post
                return
            for extra in rendered.follow_ups:
                await destination.send(extra)
            await self._edit(status, status_line("done"))
        except asyncio.CancelledError:
            await self._edit(status, status_line("cancelled"))
            raise
        except Exception:
            log.exception("following job %s failed", job_id)
            await self._edit(status, status_line("failed"))
        finally:
            await self.limits.give_back(user_id, job_id)

    async def cancel(self, job_id: str) -> bool:
        """Withdraw a job that has not started; True if there was one to withdraw."""
        task = self.running.get(job_id)
        if task is None:
            return False
        await asyncio.to_thread(self.jobs.revoke, job_id)
        await self.store.set_status(job_id, "cancelled")
        task.cancel()
        return True

    @staticmethod
    async def _edit(message: discord.Message, content: str) -> None:
        try:
            final = content.startswith(("✅", "✖", "⚠"))  # no more Cancel button once it is over
            await message.edit(content=content, view=None if final else discord.utils.MISSING,
                               allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.debug("could not edit status message %s: %s", message.id, exc)

