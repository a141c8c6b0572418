"""The real discord.py client against a fake Discord (tests/support/fake_discord.py), with a real worker
behind it on a real redis-server: slash commands in through the gateway, answers out through REST.

(The fault suite, tests/faults/, runs the same bot as its own process and kills things around it.)"""

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
from discord.webhook import async_ as webhooks
from fake_discord import APPLICATION_ID, FakeDiscord, Recorded
from local_stack import RedisServer, worker_process
from pydantic import SecretStr
from yarl import URL

from implementor.bot.app import ImplementorBot, create_bot
from implementor.bot.limits import LimitConfig, Limits
from implementor.config.settings import Settings
from implementor.contracts.jobs import strip_invisible
from implementor.store.database import Store

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
if shutil.which("redis-server") is None and not os.environ.get("CI"):
    pytest.skip("redis-server is not installed (CI installs it)", allow_module_level=True)

REQUEST = "Could someone help us plan a marketing strategy for the spring launch?"
TOKEN = "fake." + "x" * 60
# For the docs' pictures (docs/render_discord.py): IMPLEMENTOR_E2E_BUNDLED=1 puts the bundled models
# behind the worker instead of the tiny test twins; IMPLEMENTOR_E2E_CAPTURE=DIR keeps the posted messages.
BUNDLED = os.environ.get("IMPLEMENTOR_E2E_BUNDLED") == "1"
# Resolved at import: each test runs in a folder of its own (tests/conftest.py), not where pytest started.
CAPTURE = str(Path(os.environ["IMPLEMENTOR_E2E_CAPTURE"]).resolve()) if os.environ.get("IMPLEMENTOR_E2E_CAPTURE") \
    else None


def capture_thread(name: str, fake: FakeDiscord, messages: list[dict[str, Any]]) -> None:
    """Keep a conversation as the channel holds it: its messages in order, each one's attachments numbered."""
    if not CAPTURE:
        return
    folder = Path(CAPTURE)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(messages, indent=2, ensure_ascii=False) + "\n")
    for i, message in enumerate(messages):
        for filename, data in fake.files.get(message["id"], {}).items():
            (folder / f"{name}-{i}-{filename}").write_bytes(data)


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
    old = discord.http.Route.BASE, webhooks.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = webhooks.Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = URL(fake.gateway_url)
    # The tiny test models believe few of their drafts: every draft is offered in the menu (threshold 0).
    settings = Settings(discord_token=SecretStr(TOKEN), broker_url=SecretStr(url), user_cooldown_s=0,
                        reconcile_interval_s=0.2, bot_store_path=tmp_path_factory.mktemp("bot") / "bot.sqlite3",
                        realism_threshold=0.0 if not BUNDLED else 0.9)
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
    discord.http.Route.BASE, webhooks.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old


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


def answer(fake: FakeDiscord, token: str) -> list[Recorded]:
    """The interaction's response (its first message)."""
    return [r for r in fake.requests if r.path.endswith(f"/{token}/callback") and r.json is not None]


async def test_introduce_is_answered_at_once_then_with_the_face_and_cv(discord_stack) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_stack
    token = await fake.interaction("introduce", [])
    [callback] = await wait_for(lambda: answer(fake, token), 10, "the first answer")
    assert fake.interactions[token]["original"] is not None  # within Discord's 3 s (the fake refuses later ones)
    assert callback.json["type"] == 4 and callback.json["data"]["content"].startswith("⏳ Queued")  # type: ignore[index]
    [post] = await wait_for(lambda: result_post(fake, token), 120, "the introduction")
    embed = post.json["embeds"][0]  # type: ignore[index]
    assert embed["thumbnail"]["url"] == "attachment://face.png" and embed["title"]  # a 32 px face: shown small
    [(name, png)] = post.files.items()
    assert name == "face.png" and png[:8] == b"\x89PNG\r\n\x1a\n"
    for request in [callback, *followups(fake, token)]:
        data = request.json.get("data", request.json)  # type: ignore[union-attr]
        # the one ping: the result's text mentions the member who asked, and only they may be pinged
        assert data["allowed_mentions"] == ({"parse": [], "users": [42]} if request is post else {"parse": []})
    assert post.json["content"] == f"<@42>, meet {embed['title']}, your new colleague."  # type: ignore[index]
    status_id = fake.interactions[token]["original"]["id"]
    await wait_for(lambda: fake.find(status_id) is None, 30, "the status to go")  # one message per request
    capture("introduce", post)


async def test_project_is_answered_in_an_embed(discord_stack) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_stack
    token = await fake.interaction("project", [{"name": "description", "type": 3, "value": REQUEST}])
    [post] = await wait_for(lambda: result_post(fake, token), 120, "the reply")
    embed = post.json["embeds"][0]  # type: ignore[index]
    assert post.json["allowed_mentions"] == {"parse": [], "users": [42]}  # type: ignore[index]
    assert embed["description"].startswith(f"> {REQUEST}\n> — <@42>\n\n")  # the question above its answer
    buttons = [c["custom_id"] for row in post.json["components"] for c in row["components"]]  # type: ignore[index]
    assert any(b.startswith("implementor:why:") for b in buttons)
    capture("project", post)


async def test_a_button_on_a_posted_result_reaches_its_action(discord_stack) -> None:  # type: ignore[no-untyped-def]
    # Posting a message makes discord.py register the class of each button on it: the bot's messages must
    # carry the classes bound to the bot's store and actions, or this click would find none.
    fake, _ = discord_stack
    token = await fake.interaction("project", [{"name": "description", "type": 3, "value": REQUEST}], user_id="43")
    await wait_for(lambda: result_post(fake, token), 120, "the reply")
    message = next(m for m in fake.results() if fake.job_of(m) and
                   any(r.json is not None and r.json.get("embeds") == m["embeds"] for r in result_post(fake, token)))
    why = next(c["custom_id"] for row in message["components"] for c in row["components"]
               if c["custom_id"].startswith("implementor:why:"))
    clicked = await fake.click(message, why)
    [reply] = await wait_for(lambda: answer(fake, clicked), 10, "the answer to the click")
    assert reply.json["type"] == 4 and reply.json["data"]["flags"] == 64  # type: ignore[index]  # private
    assert "P(real)" in reply.json["data"]["content"]  # type: ignore[index]


async def test_regenerate_replaces_the_answer_in_its_own_message(discord_stack) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_stack
    token = await fake.interaction("project", [{"name": "description", "type": 3, "value": REQUEST}], user_id="44")
    await wait_for(lambda: result_post(fake, token), 120, "the reply")
    message = next(m for m in fake.results() if m["content"].startswith("<@44>"))
    message_id, old_job = message["id"], fake.job_of(message)
    before = len(fake.messages())
    clicked = await fake.click(fake.find(message_id), f"implementor:regen:{old_job}", user_id="44")  # type: ignore[arg-type]
    [ack] = await wait_for(lambda: answer(fake, clicked), 10, "the answer to the click")
    assert ack.json["type"] == 6  # type: ignore[index]  # acknowledged, no message of its own
    await wait_for(lambda: fake.job_of(fake.find(message_id)) not in (old_job, None)  # type: ignore[arg-type]
                   and fake.find(message_id)["content"].startswith("<@44>"), 120, "the new answer in place")  # type: ignore[index]
    assert len(fake.messages()) == before  # no message added: the answer was replaced where it stood


async def test_a_429_is_retried_and_the_message_posted_once(discord_stack) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_stack
    # This interaction's first webhook request (a status edit or the result) meets a 429. The prefix
    # names the token, so that a late request from an earlier test cannot take the 429 instead.
    token = "token-rate-limited"
    fake.rate_limit_next(f"/webhooks/{APPLICATION_ID}/{token}", times=1)
    await fake.interaction("project", [{"name": "description", "type": 3, "value": REQUEST}], token=token)
    await wait_for(lambda: result_post(fake, token), 120, "the reply")
    limited = [r for r in fake.requests if r.path.startswith(f"/webhooks/{APPLICATION_ID}/{token}") and r.json is None
               and r.method in ("POST", "PATCH")]
    assert len(limited) == 1  # one 429 ...
    assert len(result_post(fake, token)) == 1  # ... then the result exactly once


async def test_a_gateway_reconnect_resumes_the_session(discord_stack) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_stack
    await fake.reconnect()
    await asyncio.wait_for(fake.resumed.wait(), 30)
    resume = [p for p in fake.gateway_received if p["op"] == 6][-1]["d"]
    assert resume["session_id"] == fake.session_id and resume["seq"] > 0 and resume["token"] == TOKEN
    token = await fake.interaction("project", [{"name": "description", "type": 3, "value": REQUEST}])
    await wait_for(lambda: result_post(fake, token), 120, "a reply after resuming")


def replies_to(fake: FakeDiscord, message_id: str) -> list[dict[str, Any]]:
    """The bot's answers (embed and buttons) posted as Discord replies to a message."""
    return [m for m in fake.results() if (m.get("message_reference") or {}).get("message_id") == message_id]


async def test_a_conversation_goes_on_by_the_follow_up_modal_and_by_replies(discord_stack) -> None:  # type: ignore[no-untyped-def]
    fake, bot = discord_stack
    await fake.add_guild()  # a member's message names its server: the bot must know it
    token = await fake.interaction("project", [{"name": "description", "type": 3, "value": REQUEST}], user_id="45")
    await wait_for(lambda: result_post(fake, token), 120, "the first answer")
    first = next(m for m in fake.results() if m["content"].startswith("<@45>"))
    # Turn 2: the Follow up button opens a modal; what the member writes there is answered under the answer.
    clicked = await fake.click(first, f"implementor:follow:{fake.job_of(first)}", user_id="45")
    modal = await wait_for(lambda: fake.modal(clicked), 10, "the Follow up modal")
    field = modal["components"][0]["components"][0]
    assert (field["min_length"], field["max_length"]) == (10, 1500)
    await fake.submit(first, modal["custom_id"], {field["custom_id"]: "What would that cost, roughly?"}, user_id="45")
    [second] = await wait_for(lambda: replies_to(fake, first["id"]), 120, "the answer to the follow-up")
    # Turn 3: a Discord reply to that answer which mentions the bot.
    asked = await fake.reply("45", second, "Could you start on Monday?")
    [third] = await wait_for(lambda: replies_to(fake, asked["id"]), 120, "the answer to the reply")
    assert third["content"].startswith("<@45>") and "Could you start on Monday?" in third["embeds"][0]["description"]
    # The conversation, as the job book rebuilt it for the third turn: every earlier turn, oldest first.
    book = bot.store.jobs
    records = [await book.answered_as(int(m["id"])) for m in (first, second, third)]
    job = records[2].queued_job()
    assert [(t.role, t.text) for t in job.history] == [
        ("member", REQUEST), ("colleague", strip_invisible(records[0].result.reply)),
        ("member", "What would that cost, roughly?"), ("colleague", strip_invisible(records[1].result.reply))]
    assert job.request == "Could you start on Monday?"
    capture_thread("conversation", fake, [first, second, asked, third])
    assert [r.parent_job_id for r in records] == [None, records[0].job_id, records[1].job_id]
    assert len({r.colleague_id for r in records}) == 1 and job.colleague == records[0].queued_job().colleague
    # A reply that does not mention the bot reaches it with no text: the member gets a hint by DM, once.
    before = len(fake.messages())
    await fake.reply("46", third, "", mention=False)
    [hint] = await wait_for(lambda: fake.dms("46"), 10, "the hint")
    assert "mention me" in hint["content"] and "Follow up" in hint["content"]
    await fake.reply("46", third, "", mention=False)
    await asyncio.sleep(0.5)
    assert len(fake.dms("46")) == 1 and len(fake.messages()) == before + 2  # the two replies; nothing from the bot


def components(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message["components"] for c in row["components"]]


async def test_the_draft_menu_swaps_the_answer_in_place_for_the_asker_and_refuses_others(discord_stack) -> None:  # type: ignore[no-untyped-def]
    fake, bot = discord_stack
    token = await fake.interaction("project", [{"name": "description", "type": 3, "value": REQUEST}], user_id="47")
    await wait_for(lambda: result_post(fake, token), 120, "the answer")
    message = next(m for m in fake.results() if m["content"].startswith("<@47>"))
    [menu] = [c for c in components(message) if c["type"] == 3]
    job_id = menu["custom_id"].removeprefix("implementor:pick:")
    assert 2 <= len(menu["options"]) <= 4 and sum(bool(o.get("default")) for o in menu["options"]) == 1
    other = next(o for o in menu["options"] if not o.get("default"))
    before, count = dict(message), len(fake.messages())
    shown = (await bot.store.jobs.get(job_id)).result.reply
    # Another member: refused privately; the answer stays as it was.
    refused = await fake.choose(message, menu["custom_id"], [other["value"]], user_id="48")
    [no] = await wait_for(lambda: answer(fake, refused), 10, "the refusal")
    assert no.json["data"]["flags"] == 64 and "Only the member who asked" in no.json["data"]["content"]  # type: ignore[index]
    assert fake.find(message["id"])["embeds"] == before["embeds"]  # type: ignore[index]
    # The member who asked: the same message now shows the draft chosen, with the same buttons.
    chosen = await fake.choose(message, menu["custom_id"], [other["value"]], user_id="47")
    [ack] = await wait_for(lambda: answer(fake, chosen), 10, "the swap")
    assert ack.json["type"] == 7  # type: ignore[index]  # the message itself, edited
    after = fake.find(message["id"])
    assert after is not None and after["embeds"] != before["embeds"] and len(fake.messages()) == count
    assert [c.get("custom_id") for c in components(after)] == [c.get("custom_id") for c in components(message)]
    [menu_after] = [c for c in components(after) if c["type"] == 3]
    assert next(o for o in menu_after["options"] if o.get("default"))["value"] == other["value"]
    record = await bot.store.jobs.get(job_id)
    assert record.result.reply == record.result.candidates[int(other["value"])].text != shown  # type: ignore[union-attr]
    [preference] = await bot.store.preferences.all(job_id)
    assert (preference.shown, preference.chosen, preference.user_id) == (shown, record.result.reply, 47)  # type: ignore[union-attr]
    # A moderator (Manage Messages) may choose too: back to the first draft, a preference of its own.
    first = next(o for o in menu["options"] if o.get("default"))
    moderated = await fake.choose(after, menu["custom_id"], [first["value"]], user_id="49", manage_messages=True)
    [ack] = await wait_for(lambda: answer(fake, moderated), 10, "the moderator's swap")
    assert ack.json["type"] == 7  # type: ignore[index]
    assert [p.chosen for p in await bot.store.preferences.all(job_id)] == [record.result.reply, shown]  # type: ignore[union-attr]


async def test_with_nobody_hired_a_request_hires_the_colleague_who_answers_it(discord_stack) -> None:  # type: ignore[no-untyped-def]
    fake, bot = discord_stack
    assert await bot.store.colleague(8) is None  # a server nobody has hired for yet
    token = await fake.interaction("project", [{"name": "description", "type": 3, "value": REQUEST}], user_id="50",
                                   guild_id="8")
    [post] = await wait_for(lambda: result_post(fake, token), 120, "the answer")
    hired = await bot.store.colleague(8)
    assert hired is not None  # on the roster now, answering the server's requests
    embed = post.json["embeds"][0]  # type: ignore[index]
    assert embed["author"]["name"] == f"{hired.name} · {hired.title}"  # the header is the voice's own
    assert post.json["content"] == (f"<@50>, {hired.name} joined the team to answer your request "  # type: ignore[index]
                                    "(/introduce shows their CV).")
    record = await bot.store.jobs.get(fake.job_of(next(m for m in fake.results() if m["content"].startswith("<@50>"))))
    assert record is not None and record.queued_job().hire  # type: ignore[union-attr]
    assert record.result.profile.cv == hired.cv  # type: ignore[union-attr]
    assert (await bot.store.hired_by(record.job_id)) == hired
    # A follow-up goes on in the same voice: the colleague this request hired.
    first = next(m for m in fake.results() if m["content"].startswith("<@50>"))
    clicked = await fake.click(first, f"implementor:follow:{record.job_id}", user_id="50")
    modal = await wait_for(lambda: fake.modal(clicked), 10, "the Follow up modal")
    field = modal["components"][0]["components"][0]
    await fake.submit(first, modal["custom_id"], {field["custom_id"]: "Can you start on Monday?"}, user_id="50")
    [second] = await wait_for(lambda: replies_to(fake, first["id"]), 120, "the answer to the follow-up")
    follow = await bot.store.jobs.answered_as(int(second["id"]))
    assert follow is not None and follow.colleague_id == hired.id and not follow.queued_job().hire  # type: ignore[union-attr]
    assert follow.queued_job().colleague.name == hired.name  # type: ignore[union-attr]
    assert second["embeds"][0]["author"]["name"] == f"{hired.name} · {hired.title}"
