"""The real discord.py client against a fake Discord (tests/support/fake_discord.py), with a real worker
behind it on a real redis-server: slash commands in through the gateway, answers out through REST."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from discord.gateway import DiscordWebSocket
from fake_discord import APPLICATION_ID, FakeDiscord, Recorded
from pydantic import SecretStr
from yarl import URL

from bot.app import ImplementorBot, create_bot
from bot.limits import LimitConfig, Limits
from bot.store import Store
from config.settings import Settings
from workers.local_stack import RedisServer, worker_process

pytestmark = pytest.mark.asyncio(loop_scope="module")
if shutil.which("redis-server") is None and not os.environ.get("CI"):
    pytest.skip("redis-server is not installed (CI installs it)", allow_module_level=True)

REQUEST = "Could someone help us plan a marketing strategy for the spring launch?"
TOKEN = "fake." + "x" * 60
# For the README's picture (docs/render_discord.py): IMPLEMENTOR_E2E_BUNDLED=1 puts the bundled models
# behind the worker instead of the tiny test twins; IMPLEMENTOR_E2E_CAPTURE=DIR keeps the posted messages.
BUNDLED = os.environ.get("IMPLEMENTOR_E2E_BUNDLED") == "1"
CAPTURE = os.environ.get("IMPLEMENTOR_E2E_CAPTURE")


def capture(name: str, post: Recorded) -> None:
    """Keep a posted message as the fake Discord received it: its JSON and its attachments."""
    if not CAPTURE:
        return
    folder = Path(CAPTURE)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(post.json, indent=2, ensure_ascii=False) + "\n")
    for filename, data in post.files.items():
        (folder / f"{name}-{filename}").write_bytes(data)


@pytest.fixture(scope="module")
def worker(tiny_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    try:
        models = {"IMPLEMENTOR_DEVICE": "cpu"} if BUNDLED else tiny_env
        with worker_process(server.url, {**models, "IMPLEMENTOR_BATCH_WINDOW_S": "0.1"}, log) as (client, _):
            yield server.url, client
    finally:
        server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def discord_stack(worker: tuple[str, Any], tmp_path_factory: pytest.TempPathFactory
                        ) -> AsyncIterator[tuple[FakeDiscord, ImplementorBot]]:
    url, jobs = worker
    fake = FakeDiscord()
    await fake.start()
    old_base, old_gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = URL(fake.gateway_url)
    settings = Settings(discord_token=SecretStr(TOKEN), broker_url=SecretStr(url), user_cooldown_s=0,
                        bot_store_path=tmp_path_factory.mktemp("bot") / "bot.sqlite3")
    store = await Store(settings.bot_store_path).open()
    limits = Limits(aioredis.Redis.from_url(url), LimitConfig(0, 5, 50))
    bot = create_bot(settings, jobs, store, limits)
    task = asyncio.create_task(bot.start(TOKEN))
    await asyncio.wait_for(fake.ready.wait(), 30)
    await asyncio.wait_for(bot.wait_until_ready(), 30)
    yield fake, bot
    await bot.close()
    task.cancel()
    await fake.stop()
    discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


async def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def followups(fake: FakeDiscord, token: str) -> list[Recorded]:
    return [r for r in fake.requests if r.method == "POST" and r.path == f"/webhooks/{APPLICATION_ID}/{token}"
            and r.json is not None]


def result_post(fake: FakeDiscord, token: str) -> list[Recorded]:
    return [r for r in followups(fake, token) if r.json and r.json.get("embeds")]


async def test_introduce_is_deferred_then_answered_with_the_face_and_cv(discord_stack) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_stack
    sent = time.monotonic()
    token = await fake.interaction("introduce", [])
    callback = await wait_for(lambda: [r for r in fake.requests if r.path.endswith(f"/{token}/callback")], 10,
                              "the deferral")
    assert time.monotonic() - sent < 3.0  # Discord's deadline for a first answer
    assert callback[0].json == {"type": 5, "data": {"flags": 0}} or callback[0].json["type"] == 5
    [post] = await wait_for(lambda: result_post(fake, token), 120, "the introduction")
    embed = post.json["embeds"][0]  # type: ignore[index]
    assert embed["image"]["url"] == "attachment://face.png" and embed["title"]
    [(name, png)] = post.files.items()
    assert name == "face.png" and png[:8] == b"\x89PNG\r\n\x1a\n"
    for request in followups(fake, token):
        assert request.json["allowed_mentions"] == {"parse": []}  # type: ignore[index]
    status = followups(fake, token)[0]
    assert status.json["content"].startswith("⏳ Queued")  # type: ignore[index]
    capture("introduce", post)


async def test_project_is_answered_in_an_embed(discord_stack) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_stack
    token = await fake.interaction("project", [{"name": "description", "type": 3, "value": REQUEST}])
    [post] = await wait_for(lambda: result_post(fake, token), 120, "the reply")
    embed = post.json["embeds"][0]  # type: ignore[index]
    assert embed["description"] and post.json["allowed_mentions"] == {"parse": []}  # type: ignore[index]
    buttons = [c["custom_id"] for row in post.json["components"] for c in row["components"]]  # type: ignore[index]
    assert any(b.startswith("implementor:why:") for b in buttons)
    capture("project", post)


async def click(fake: FakeDiscord, message: dict[str, Any], custom_id: str, user_id: str = "51") -> str:
    """Press a button on a message the bot posted, as Discord reports it; returns the interaction token."""
    interaction_id = str(next(fake.ids))
    token = f"token-{interaction_id}"
    channel = {"id": "500", "type": 0, "guild_id": "7", "name": "general", "position": 0,
               "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
               "last_message_id": None, "rate_limit_per_user": 0, "flags": 0, "permissions": "0"}
    member = {"user": {"id": user_id, "username": f"member{user_id}", "discriminator": "0", "global_name": None,
                       "avatar": None},
              "roles": [], "permissions": "0", "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False,
              "mute": False, "flags": 0}
    await fake.dispatch("INTERACTION_CREATE", {
        "id": interaction_id, "application_id": APPLICATION_ID, "type": 3, "token": token, "version": 1,
        "guild_id": "7", "channel_id": "500", "channel": channel, "member": member, "message": message,
        "data": {"custom_id": custom_id, "component_type": 2}, "app_permissions": "0", "locale": "en-US",
        "guild_locale": "en-US", "entitlements": [], "attachment_size_limit": 10 * 1024 * 1024,
        "authorizing_integration_owners": {"0": "7"}, "context": 0,
    })
    return token


async def test_a_button_on_a_posted_result_reaches_its_action(discord_stack) -> None:  # type: ignore[no-untyped-def]
    # Posting a message makes discord.py register the class of each button on it: the bot's messages must
    # carry the classes bound to the bot's store and actions, or this click would find none.
    fake, _ = discord_stack
    token = await fake.interaction("project", [{"name": "description", "type": 3, "value": REQUEST}], user_id="43")
    [post] = await wait_for(lambda: result_post(fake, token), 120, "the reply")
    why = next(c["custom_id"] for row in post.json["components"] for c in row["components"]  # type: ignore[index]
               if c["custom_id"].startswith("implementor:why:"))
    clicked = await click(fake, fake.message("500", post.json, {}), why)
    [answer] = await wait_for(lambda: [r for r in fake.requests if r.path.endswith(f"/{clicked}/callback")], 10,
                              "the answer to the click")
    assert answer.json["type"] == 4 and answer.json["data"]["flags"] == 64  # type: ignore[index]  # private
    assert "P(real)" in answer.json["data"]["content"]  # type: ignore[index]


async def test_a_429_is_retried_and_the_message_posted_once(discord_stack) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_stack
    # This interaction's first follow-up meets a 429. The prefix names the token, so that a late request
    # from an earlier test (deleting its status message, say) cannot take the 429 instead.
    token = "token-rate-limited"
    fake.rate_limit_next(f"/webhooks/{APPLICATION_ID}/{token}", times=1)
    await fake.interaction("project", [{"name": "description", "type": 3, "value": REQUEST}], token=token)
    await wait_for(lambda: result_post(fake, token), 120, "the reply")
    limited = [r for r in fake.requests if r.path == f"/webhooks/{APPLICATION_ID}/{token}" and r.json is None]
    assert len(limited) == 1  # one 429 ...
    statuses = [r for r in followups(fake, token) if (r.json or {}).get("content", "").startswith("⏳")]
    assert len(statuses) == 1 and len(result_post(fake, token)) == 1  # ... then each message exactly once


async def test_a_gateway_reconnect_resumes_the_session(discord_stack) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_stack
    await fake.reconnect()
    await asyncio.wait_for(fake.resumed.wait(), 30)
    resume = [p for p in fake.gateway_received if p["op"] == 6][-1]["d"]
    assert resume["session_id"] == fake.session_id and resume["seq"] > 0 and resume["token"] == TOKEN
    token = await fake.interaction("project", [{"name": "description", "type": 3, "value": REQUEST}])
    await wait_for(lambda: result_post(fake, token), 120, "a reply after resuming")
