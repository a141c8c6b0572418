"""Doubles for the bot's unit tests (a job queue, Discord interactions and channels that record calls) and
the bot's parts wired as `bot.app.wire` wires them, on the real store and limits."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import pytest_asyncio
from PIL import Image

from bot.app import ImplementorBot, Wiring, create_bot, wire
from bot.limits import LimitConfig, Limits
from bot.store import Store
from config.settings import Settings
from contracts.jobs import IntroduceJob, IntroduceResult, Profile, ProjectJob, ProjectResult, Result
from contracts.scores import CandidateScore


def png() -> str:
    buffer = io.BytesIO()
    Image.new("L", (32, 32), 128).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


REQUEST = "Could someone help us plan the spring launch at Acme?"
CV = "## Profile\nI plan campaigns. @everyone <@123>\n\n## Skills\n- plan\n- write\n- sell\n\n## Experience\n" \
     "- Lead Planner, Acme (2020-present). Planned things.\n\n## Education\n- BA in Marketing, Leeds (2015)"


class FakeJobs:
    """The queue as the bot sees it; results are made up on the spot, or held until released."""

    def __init__(self) -> None:
        self.submitted: list[IntroduceJob | ProjectJob] = []
        self.revoked: list[str] = []
        self.hold = asyncio.Event()
        self.hold.set()
        self.reply = "I can help: I planned the same launch at Acme. Shall we talk on Monday? @here"

    def submit(self, job: IntroduceJob | ProjectJob) -> str:
        self.submitted.append(job)
        return job.job_id

    def queue_length(self) -> int:
        return 2

    def revoke(self, job_id: str) -> None:
        self.revoked.append(job_id)

    async def wait(self, job_id: str, timeout: float, on_progress: Callable[[str], None] | None = None,
                   poll: float = 0.5) -> Result:
        if on_progress:
            on_progress("generating")
        await self.hold.wait()
        job = next(j for j in self.submitted if j.job_id == job_id)
        scores = [CandidateScore(text=self.reply, p_real=0.95, quality=4.2, chosen=True, reason="chosen"),
                  CandidateScore(text="No.", p_real=0.2, quality=1.1, chosen=False, reason="too short")]
        if isinstance(job, IntroduceJob):
            profile = Profile(name="Ada Lovelace", title="Data Scientist", seed=7, cv=CV, png_base64=png())
            return IntroduceResult(job_id=job_id, status="ok", profile=profile, candidates=scores)
        return ProjectResult(job_id=job_id, status="ok", reply=self.reply, candidates=scores)


@dataclass
class Sent:
    content: str | None
    kwargs: dict[str, Any]
    id: int
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False

    async def edit(self, **kwargs: Any) -> None:
        self.edits.append(kwargs)

    async def delete(self) -> None:
        self.deleted = True


class FakeChannel:
    def __init__(self, channel_id: int = 500) -> None:
        self.id = channel_id
        self.sent: list[Sent] = []

    @property
    def posts(self) -> list[Sent]:
        """The messages sent with an embed: results, not status lines."""
        return [m for m in self.sent if "embed" in m.kwargs]

    async def send(self, content: str | None = None, **kwargs: Any) -> Sent:
        message = Sent(content, kwargs, id=1000 + len(self.sent))
        self.sent.append(message)
        return message


class FakeResponse:
    def __init__(self) -> None:
        self.deferred = False
        self.messages: list[tuple[str | None, dict[str, Any]]] = []

    def is_done(self) -> bool:
        return self.deferred or bool(self.messages)

    async def defer(self, **kwargs: Any) -> None:
        self.deferred = True

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        self.messages.append((content, kwargs))


class FakeFollowup(FakeChannel):
    pass


@dataclass
class FakeUser:
    id: int


@dataclass
class FakePermissions:
    manage_messages: bool = False


class FakeInteraction:
    """No `client`: nothing the bot runs may reach for the bot through an interaction."""

    def __init__(self, user_id: int = 42, guild_id: int = 7, manage_messages: bool = False) -> None:
        self.user = FakeUser(user_id)
        self.guild_id = guild_id
        self.channel = FakeChannel()
        self.response = FakeResponse()
        self.followup = FakeFollowup()
        self.permissions = FakePermissions(manage_messages)
        self.message: Sent | None = None


BOT_USER = FakeUser(900)  # the bot's own user, as a message mentions it


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(bot_store_path=tmp_path / "bot.sqlite3", user_cooldown_s=30, user_max_in_flight=2, queue_cap=3)


@pytest.fixture
def redis_server() -> fakeredis.FakeServer:
    return fakeredis.FakeServer()


@pytest.fixture
def jobs() -> FakeJobs:
    return FakeJobs()


@pytest_asyncio.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    opened = await Store(settings.bot_store_path).open()
    yield opened
    await opened.close()


@pytest.fixture
def limits(settings: Settings, redis_server: fakeredis.FakeServer) -> Limits:
    return Limits(fakeredis.FakeAsyncRedis(server=redis_server),
                  LimitConfig(settings.user_cooldown_s, settings.user_max_in_flight, settings.queue_cap))


@pytest.fixture
def wiring(settings: Settings, jobs: FakeJobs, store: Store, limits: Limits) -> Wiring:
    """The runner, the buttons and the cogs, as the bot wires them, without a Discord client."""
    return wire(jobs=jobs, store=store, limits=limits, wait_timeout_s=settings.task_time_limit_s * 3,
                me=lambda: BOT_USER)


@pytest_asyncio.fixture
async def bot(settings: Settings, jobs: FakeJobs, store: Store, limits: Limits) -> ImplementorBot:
    client = create_bot(settings, jobs, store, limits)
    await client.setup_hook()
    return client


@pytest.fixture
def settle(wiring: Wiring) -> Callable[[], Awaitable[None]]:
    async def settle() -> None:
        """Let the background job followers finish."""
        for _ in range(200):
            if not wiring.runner.running:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("jobs still running")

    return settle


@pytest.fixture
def ask(wiring: Wiring) -> Callable[..., Awaitable[None]]:
    """/project, as a member sends it: `await ask(interaction)`, or with another description."""

    async def ask(interaction: FakeInteraction, description: str = REQUEST) -> None:
        cog = wiring.project
        await cog.project.callback(cog, interaction, description=description)  # type: ignore[arg-type, misc]

    return ask


@pytest.fixture
def make_interaction() -> Callable[..., FakeInteraction]:
    return FakeInteraction


@pytest.fixture
def make_channel() -> Callable[..., FakeChannel]:
    return FakeChannel
