"""The bot's parts wired as `implementor.bot.app.wire` wires them, on the real store (SQLite in tmp_path) and limits
(fakeredis with Lua), with the doubles of `bot_fake_queue` and `bot_fake_client` for the queue and Discord.

Nothing runs in the background: a test moves jobs on with `await wiring.reconciler.pass_once()`, or
with `settle()`, which passes until no job is open. `restart()` is the bot started again: a new
wiring over the same store file, the same queue, the same Redis and the same Discord channels.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import discord
import fakeredis
import pytest
import pytest_asyncio
from bot_fake_client import Ask, Channels, FakeChannel, FakeClient, FakeInteraction, MakeInteraction, Restart, Settle
from bot_fake_queue import REQUEST, Clock, FakeJobs
from discord.webhook import async_ as webhooks
from fake_discord import FakeDiscord

from implementor.bot.app import ImplementorBot, Wiring, create_bot, wire
from implementor.bot.limits import LimitConfig, Limits
from implementor.config.settings import Settings
from implementor.store.database import Store

CHANNEL_ID = 500


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """The fake Discord's REST API, where discord.py's HTTP client and webhooks send (a module may have its own)."""
    server = FakeDiscord()
    await server.start()
    old = discord.http.Route.BASE, webhooks.Route.BASE
    discord.http.Route.BASE = webhooks.Route.BASE = server.api_base  # type: ignore[misc]
    yield server
    discord.http.Route.BASE, webhooks.Route.BASE = old  # type: ignore[misc]
    await server.stop()


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Tight limits; a test changes them with `@pytest.mark.parametrize("settings", [{...}], indirect=True)`."""
    chosen = {"user_cooldown_s": 30, "user_max_in_flight": 2, "queue_cap": 3, **getattr(request, "param", {})}
    return Settings(bot_store_path=tmp_path / "bot.sqlite3", learning_dir=tmp_path / "learning",
                    models_dir=tmp_path / "models", **chosen)


@pytest.fixture
def redis_server() -> fakeredis.FakeServer:
    return fakeredis.FakeServer()


@pytest.fixture
def jobs() -> FakeJobs:
    return FakeJobs()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def channels() -> Channels:
    return Channels()


@pytest.fixture
def channel(channels: Channels) -> FakeChannel:
    """The channel every interaction of these tests comes from."""
    return channels[CHANNEL_ID]


@pytest_asyncio.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    opened = await Store(settings.bot_store_path).open()
    yield opened
    await opened.close()


def make_limits(settings: Settings, server: fakeredis.FakeServer) -> Limits:
    return Limits(fakeredis.FakeAsyncRedis(server=server),
                  LimitConfig(settings.user_cooldown_s, settings.user_max_in_flight, settings.queue_cap))


@pytest.fixture
def limits(settings: Settings, redis_server: fakeredis.FakeServer) -> Limits:
    return make_limits(settings, redis_server)


def make_wiring(settings: Settings, jobs: FakeJobs, store: Store, limits: Limits, channels: Channels,
                clock: Clock) -> Wiring:
    wiring = wire(client=FakeClient(channels), jobs=jobs, store=store, limits=limits,  # type: ignore[arg-type]
                  settings=settings)
    # `wire` takes no clock; the parts that read one are given the test's, which a test can move on.
    wiring.reconciler.clock = wiring.runner.clock = wiring.reconciler.poster.clock = clock
    wiring.reconciler.capacity.clock = clock
    return wiring


@pytest.fixture
def wiring(settings: Settings, jobs: FakeJobs, store: Store, limits: Limits, channels: Channels,
           clock: Clock) -> Wiring:
    """The reconciler, the runner, the buttons and the cogs, as the bot wires them, with a fake Discord client."""
    return make_wiring(settings, jobs, store, limits, channels, clock)


@pytest_asyncio.fixture
async def restart(settings: Settings, jobs: FakeJobs, store: Store, redis_server: fakeredis.FakeServer,
                  channels: Channels, clock: Clock) -> AsyncIterator[Restart]:
    """The bot dies (its store is closed, its reconciler forgotten) and starts again on the same store file."""
    opened: list[Store] = []

    async def restart() -> tuple[Wiring, Store]:
        await store.close()
        for old in opened:
            await old.close()
        reopened = await Store(settings.bot_store_path).open()
        opened.append(reopened)
        return make_wiring(settings, jobs, reopened, make_limits(settings, redis_server), channels, clock), reopened

    yield restart
    for old in opened:
        await old.close()


@pytest_asyncio.fixture
async def bot(settings: Settings, jobs: FakeJobs, store: Store, limits: Limits) -> AsyncIterator[ImplementorBot]:
    """The real bot class after its setup_hook (its reconciler runs in the background until it closes)."""
    client = create_bot(settings, jobs, store, limits)
    await client.setup_hook()
    yield client
    await client.close()


@pytest.fixture
def settle(wiring: Wiring, store: Store) -> Settle:
    async def settle(passes: int = 5) -> None:
        """Reconciler passes until no job is open (a few at most: a finished job is posted in one)."""
        for _ in range(passes):
            if not await store.jobs.open_jobs():
                return
            await wiring.reconciler.pass_once()
        still = await store.jobs.open_jobs()
        assert not still, f"jobs still open after {passes} passes: {[(r.job_id, r.status) for r in still]}"

    return settle


@pytest.fixture
def make_interaction(channel: FakeChannel) -> MakeInteraction:
    def make(user_id: int = 42, guild_id: int | None = 7, manage_messages: bool = False,
             manage_guild: bool = False) -> FakeInteraction:
        return FakeInteraction(channel, user_id=user_id, guild_id=guild_id, manage_messages=manage_messages,
                               manage_guild=manage_guild)

    return make


@pytest.fixture
def ask(wiring: Wiring) -> Ask:
    """/project, as a member sends it: `await ask(interaction)`, or with another description."""

    async def ask(interaction: FakeInteraction, description: str = REQUEST) -> None:
        cog = wiring.project
        await cog.project.callback(cog, interaction, description=description)  # type: ignore[arg-type, misc]

    return ask


@pytest.fixture
def introduce(wiring: Wiring) -> Ask:
    """/introduce, as a member sends it: `await introduce(interaction)` or `introduce(interaction, new=True)`."""

    async def introduce(interaction: FakeInteraction, new: bool = False, **options: object) -> None:
        cog = wiring.introduce
        await cog.introduce.callback(cog, interaction, new=new, **options)  # type: ignore[arg-type, misc]

    return introduce
