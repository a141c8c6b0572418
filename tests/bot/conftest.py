"""Doubles for the bot's unit tests: a job queue, Discord interactions and channels that record calls."""

from __future__ import annotations

import asyncio
import base64
import functools
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import pytest_asyncio
from PIL import Image

from bot.app import ImplementorBot, create_bot
from bot.limits import LimitConfig, Limits
from bot.store import Store
from config.settings import Settings
from workers.schemas import (
    CandidateScore,
    IntroduceJob,
    IntroduceResult,
    Persona,
    ProjectJob,
    ProjectResult,
    Result,
)


def png() -> str:
    buffer = io.BytesIO()
    Image.new("L", (32, 32), 128).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


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
            persona = Persona(name="Ada Lovelace", title="Data Scientist", seed=7, cv=CV, png_base64=png())
            return IntroduceResult(job_id=job_id, status="ok", persona=persona, candidates=scores)
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
    def __init__(self, user_id: int = 42, guild_id: int = 7, manage_messages: bool = False,
                 client: Any = None) -> None:
        self.client = client
        self.user = FakeUser(user_id)
        self.guild_id = guild_id
        self.channel = FakeChannel()
        self.response = FakeResponse()
        self.followup = FakeFollowup()
        self.permissions = FakePermissions(manage_messages)
        self.message: Sent | None = None


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(bot_store_path=tmp_path / "bot.sqlite3", user_cooldown_s=30, user_max_in_flight=2, queue_cap=3)


@pytest.fixture
def redis_server() -> fakeredis.FakeServer:
    return fakeredis.FakeServer()


@pytest_asyncio.fixture
async def bot(settings: Settings, redis_server: fakeredis.FakeServer) -> ImplementorBot:
    store = await Store(settings.bot_store_path).open()
    limits = Limits(fakeredis.FakeAsyncRedis(server=redis_server),
                    LimitConfig(settings.user_cooldown_s, settings.user_max_in_flight, settings.queue_cap))
    client = create_bot(settings, FakeJobs(), store, limits)
    await client.setup_hook()
    yield client
    await store.close()


@pytest.fixture
def make_interaction(request: pytest.FixtureRequest) -> Callable[..., FakeInteraction]:
    """Fake interactions, bound to the test's bot when it has one."""
    client = request.getfixturevalue("bot") if "bot" in request.fixturenames else None
    return functools.partial(FakeInteraction, client=client)


@pytest.fixture
def make_channel() -> Callable[..., FakeChannel]:
    return FakeChannel
