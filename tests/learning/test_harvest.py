"""The harvest against the fake Discord API: a channel's history with replies, threads, reactions, bots,
an opted-out member and personal details. The pairs, labels and texts are exactly the expected ones,
nothing of the opted-out member or the bots is kept, no scrubbed pattern survives, a second run reads
only what is new, and a 429 in the middle of paging is waited out without duplicating anything.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio
from discord.webhook import async_ as webhooks
from fake_discord import APPLICATION_ID, FakeDiscord
from pydantic import SecretStr

from implementor.config.settings import Settings
from implementor.contracts.jobs import ProjectJob, ProjectResult
from implementor.contracts.scores import CandidateScore
from implementor.learning.harvest_job import run_harvest
from implementor.learning.scrub import leftovers
from implementor.store.consent import LearningStore
from implementor.store.database import Store
from implementor.store.datasets import PAIRS, TEXTS, harvest_dir, read_rows

TOKEN = "MTAx." + "x" * 60
CHANNEL, OTHER = "500", "501"
ADMIN, ASKER, HELPER, OPTED_OUT, BOT = 1, 101, 102, 666, "900"
FANS = ["103", "104", "105", "106", "107"]


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    old = discord.http.Route.BASE, webhooks.Route.BASE
    discord.http.Route.BASE = webhooks.Route.BASE = server.api_base
    yield server
    discord.http.Route.BASE, webhooks.Route.BASE = old
    await server.stop()


@pytest_asyncio.fixture
async def settings(tmp_path: Path) -> AsyncIterator[Settings]:
    settings = Settings(discord_token=SecretStr(TOKEN), bot_store_path=tmp_path / "bot.sqlite3",
                        learning_dir=tmp_path / "learning")
    store = await Store(settings.bot_store_path).open()  # the bot's store: the job book lives there too
    await store.close()
    learning = await LearningStore.open(settings.bot_store_path)
    await learning.set_channel(7, int(CHANNEL), True, by=ADMIN)
    await learning.opt_out(OPTED_OUT)
    await learning.close()
    yield settings


async def colleague_answered(settings: Settings, message: dict[str, Any], request: str, reply: str) -> None:
    """A project job whose result is `message`, and its ratings, written by the bot's own store as it posts them."""
    store = await Store(settings.bot_store_path).open()
    try:
        job = ProjectJob(job_id="job-harvest-1", request=request)
        await store.jobs.add(job, 7, int(CHANNEL), ASKER)
        await store.jobs.mark_submitted(job.job_id)
        drafts = [CandidateScore(text="The top draft.", p_real=0.97, quality=4.5, chosen=False, reason="not posted",
                                 propensity=0.9),
                  CandidateScore(text=reply, p_real=0.95, quality=3.9, chosen=True, reason="chosen to explore",
                                 propensity=0.05)]
        await store.jobs.store_result(job.job_id, ProjectResult(job_id=job.job_id, status="ok", reply=reply,
                                                                explored=True, candidates=drafts))  # exploration
        assert await store.jobs.claim_post(job.job_id) and await store.jobs.mark_posted(job.job_id, int(message["id"]))
        # The rating buttons: 104 liked it; 103 disliked it, with a 👎 reaction too (counted once).
        await store.rate(job.job_id, 104, request, reply, 5, guild_id=7)
        await store.rate(job.job_id, 103, request, reply, 1, guild_id=7)
    finally:
        await store.close()


async def server_history(fake: FakeDiscord, settings: Settings) -> dict[str, dict[str, Any]]:
    say = fake.say
    m: dict[str, dict[str, Any]] = {}
    m["ask"] = say(CHANNEL, str(ASKER), "Could someone help me plan a data pipeline for our sales reports?")
    m["answer"] = say(CHANNEL, str(HELPER), "Sure, I would start with a nightly job that loads the sales data "
                      "into the warehouse.", reply_to=m["ask"])
    fake.react(m["answer"], "🎉", [*FANS, str(HELPER), BOT], bots=(BOT,))  # the author and a bot do not count
    m["bot"] = say(CHANNEL, BOT, "Beep: automated reminder, standup starts in ten minutes.", bot=True)
    m["private"] = say(CHANNEL, str(OPTED_OUT), "Mail me at jane.doe@example.com or call +44 20 7946 0958 today.")
    m["details"] = say(CHANNEL, "103", "Contact me at bob@example.org or (415) 555-2671, see "
                       "https://example.com/x and discord.gg/abcdef <@102> @everyone")
    m["to_private"] = say(CHANNEL, "104", "Thanks, that sounds like a good plan for the whole team.",
                          reply_to=m["private"])
    m["short"] = say(CHANNEL, "105", "ok!", reply_to=m["ask"])
    m["colleague"] = fake.message(CHANNEL, {"content": "Here is my plan for the reporting pipeline."}, {})
    fake.react(m["colleague"], "👍", [str(ASKER), str(HELPER)])
    fake.react(m["colleague"], "👎", ["103"])
    await colleague_answered(settings, m["colleague"], "Plan our reporting pipeline, please.",
                             "I would land the raw sales data nightly, then model it in dbt.")
    thread = fake.thread(CHANNEL)
    say(thread, str(ASKER), "How should we structure the onboarding docs for new engineers?")
    say(thread, "107", "Start with a one-page overview and a checklist for the first week.")
    private_thread = fake.thread(CHANNEL, archived=True)
    say(private_thread, str(OPTED_OUT), "Who can review my onboarding notes before Friday?")
    say(private_thread, str(HELPER), "I can review your onboarding notes on Thursday afternoon.")
    other = fake.thread(OTHER)
    say(other, str(ASKER), "A question in a channel nobody enabled for learning at all.")
    say(other, str(HELPER), "An answer in a channel nobody enabled for learning at all.")
    return m


def rows(settings: Settings) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    folder = harvest_dir(settings.learning_dir)
    return read_rows(folder / PAIRS), read_rows(folder / TEXTS)


async def test_the_harvest_keeps_exactly_the_expected_pairs_labels_and_texts(fake: FakeDiscord,
                                                                             settings: Settings) -> None:
    m = await server_history(fake, settings)
    fake.rate_limit_next(f"/channels/{CHANNEL}/messages", times=1, after=1)  # the second page gets a 429
    counts = await run_harvest(settings, pause_s=0, page=3)
    assert counts[int(CHANNEL)] == {"read": 8, "dropped: bot": 1, "dropped: opted out": 1, "dropped: too short": 1,
                                    "kept: pairs": 3, "kept: texts": 3}
    assert any(r.path.startswith(f"/channels/{CHANNEL}/messages") and r.json is None and r.method == "GET"
               for r in fake.requests), "the 429 was served"
    pairs, texts = rows(settings)
    summary = sorted((p["source"], p["request_author"], p["reply_author"], p["reactors"], p["bin"]) for p in pairs)
    assert summary == [("colleague", ASKER, int(APPLICATION_ID), 4, 2), ("reply", ASKER, HELPER, 5, 3),
                       ("thread", ASKER, 107, 0, 0)]
    [mine] = [p for p in pairs if p["source"] == "colleague"]
    assert (mine["thumbs_up"], mine["thumbs_down"]) == (3, 1)
    assert (mine["propensity"], mine["explored"]) == (0.05, True)  # what retraining weights it by
    assert mine["reply"] == "I would land the raw sales data nightly, then model it in dbt."
    assert sorted(t["message_id"] for t in texts) == sorted(int(m[k]["id"]) for k in ("ask", "details", "to_private"))
    [details] = [t for t in texts if t["message_id"] == int(m["details"]["id"])]
    assert details["text"] == "Contact me at [email] or [phone], see [link] and [invite] everyone"
    assert details["context"] == m["answer"]["content"]  # the kept message before it, never a dropped one


async def test_nothing_of_the_opted_out_member_or_bots_survives_and_no_pattern_does(fake: FakeDiscord,
                                                                                    settings: Settings) -> None:
    await server_history(fake, settings)
    await run_harvest(settings, pause_s=0)
    pairs, texts = rows(settings)
    every = json.dumps(pairs + texts, ensure_ascii=False)
    for word in ("jane", "7946", "Beep", "onboarding notes", "nobody enabled"):
        assert word not in every
    people = {r.get(k) for r in pairs + texts for k in ("request_author", "reply_author", "author", "context_author")}
    assert OPTED_OUT not in people and int(BOT) not in people
    assert all(not leftovers(r[k]) for r in pairs for k in ("request", "reply"))
    assert all(not leftovers(r[k]) for r in texts for k in ("text", "context"))


async def test_a_second_run_reads_only_what_is_new(fake: FakeDiscord, settings: Settings) -> None:
    await server_history(fake, settings)
    await run_harvest(settings, pause_s=0)
    first = len(fake.requests)
    ask = fake.say(CHANNEL, "104", "Does anyone know a good way to test our Airflow DAGs locally?")
    fake.say(CHANNEL, "105", "We run them with the dag.test() helper inside a small docker compose.", reply_to=ask)
    counts = await run_harvest(settings, pause_s=0)
    assert counts[int(CHANNEL)]["read"] == 2 and counts[int(CHANNEL)]["kept: pairs"] == 1
    reads = [r.path for r in fake.requests[first:] if r.method == "GET" and r.path.endswith("/messages")]
    assert reads == [f"/channels/{CHANNEL}/messages"]  # the paired thread is not read again
    pairs, texts = rows(settings)
    assert len(pairs) == 4 and len({p["message_id"] for p in pairs}) == 4 and len(texts) == 4
    learning = await LearningStore.open(settings.bot_store_path)
    [channel] = await learning.channels()
    await learning.close()
    assert channel.last_message_id is not None and channel.counts == counts[int(CHANNEL)]


async def test_nothing_is_read_without_consent(fake: FakeDiscord, tmp_path: Path) -> None:
    settings = Settings(discord_token=SecretStr(TOKEN), bot_store_path=tmp_path / "b.sqlite3",
                        learning_dir=tmp_path / "l")
    fake.say(CHANNEL, str(ASKER), "A message in a channel nobody has enabled for learning.")
    assert await run_harvest(settings, pause_s=0) == {}
    assert not [r for r in fake.requests if "/channels/" in r.path]
    assert rows(settings) == ([], [])


async def test_a_harvest_without_a_token_says_which_setting(tmp_path: Path) -> None:
    from implementor.contracts.errors import ConfigError

    with pytest.raises(ConfigError, match="IMPLEMENTOR_DISCORD_TOKEN"):
        await run_harvest(Settings(bot_store_path=tmp_path / "b.sqlite3", learning_dir=tmp_path / "l"))
