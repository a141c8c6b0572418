"""A refused "@Implementor introduce yourself", through the real discord.py client and a fake Discord
(tests/support/fake_discord.py): the reason goes to the member by DM, and where their DMs are closed,
a reply in the channel deletes itself within seconds. No worker: the queue holds its jobs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import fakeredis
import pytest
import pytest_asyncio
from bot_fake_queue import FakeJobs
from discord.gateway import DiscordWebSocket
from discord.webhook import async_ as webhooks
from fake_discord import APPLICATION_ID, FakeDiscord
from pydantic import SecretStr
from yarl import URL

from implementor.bot.app import create_bot
from implementor.bot.errors import PUBLIC_REFUSAL_S
from implementor.bot.limits import LimitConfig, Limits
from implementor.config.settings import Settings
from implementor.store.database import Store

TOKEN = "fake." + "x" * 60


@pytest_asyncio.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    old = discord.http.Route.BASE, webhooks.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = webhooks.Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = URL(fake.gateway_url)
    settings = Settings(discord_token=SecretStr(TOKEN), bot_store_path=tmp_path / "bot.sqlite3")
    store = await Store(settings.bot_store_path).open()
    jobs = FakeJobs()
    jobs.hold = True  # the first request waits in the queue; the member's second is refused (cooldown)
    limits = Limits(fakeredis.FakeAsyncRedis(), LimitConfig(60, 2, 50))
    bot = create_bot(settings, jobs, store, limits)
    task = asyncio.create_task(bot.start(TOKEN))
    await asyncio.wait_for(bot.wait_until_ready(), 30)
    await fake.add_guild()
    await asyncio.sleep(0.3)  # the bot takes the server in
    yield fake
    await bot.close()
    task.cancel()
    await fake.stop()
    discord.http.Route.BASE, webhooks.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old


async def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def bot_messages(fake: FakeDiscord) -> list[dict[str, Any]]:
    return [m for m in fake.messages("500") if m["author"]["id"] == APPLICATION_ID]


@pytest.mark.asyncio
async def test_a_refused_mention_is_told_to_the_member_by_dm(fake: FakeDiscord) -> None:
    await fake.mention("42", "introduce yourself")
    await wait_for(lambda: bot_messages(fake), 10, "the first request's status")  # accepted: ⏳ Queued, in public
    await fake.mention("42", "introduce yourself")
    [dm] = await wait_for(lambda: fake.dms("42"), 10, "the refusal by DM")
    assert "being hired here already" in dm["content"]  # the first hire is under way
    await asyncio.sleep(0.5)
    assert len(bot_messages(fake)) == 1  # nothing more in the channel


@pytest.mark.asyncio
async def test_with_dms_closed_the_refusal_is_a_reply_that_deletes_itself(fake: FakeDiscord) -> None:
    fake.closed_dms.add("43")
    await fake.mention("43", "introduce yourself")
    await wait_for(lambda: bot_messages(fake), 10, "the first request's status")
    await fake.mention("43", "introduce yourself")
    refusals = await wait_for(lambda: [m for m in bot_messages(fake) if "being hired" in m["content"]], 10,
                              "the refusal in the channel")
    assert refusals[0]["content"].endswith(f"this note disappears in {PUBLIC_REFUSAL_S:.0f} s.)")
    assert fake.dms("43") == []  # the DM was refused by Discord (50007)
    await wait_for(lambda: not [m for m in bot_messages(fake) if "being hired" in m["content"]],
                   PUBLIC_REFUSAL_S + 5, "the refusal to delete itself")
