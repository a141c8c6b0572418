"""A result posted to a channel twice (a process that died mid-post, another taking its job over) is one
message: the Poster's channel posts carry a nonce of their job and part with `enforce_nonce`, through the
real discord.py HTTP client, and the fake Discord (tests/support/fake_discord.py) honours it as Discord does."""

from __future__ import annotations

from pathlib import Path

import discord
from fake_discord import FakeDiscord

from implementor.bot.poster import Poster, nonce
from implementor.contracts.jobs import ProjectJob
from implementor.store.database import Store

TOKEN = "fake." + "x" * 60


async def test_a_channel_post_sent_again_returns_the_first_message(fake: FakeDiscord, tmp_path: Path) -> None:
    store = await Store(tmp_path / "bot.sqlite3").open()
    client = discord.Client(intents=discord.Intents.none())
    await client.login(TOKEN)
    try:
        job = ProjectJob(request="Could you help us plan the launch?")
        await store.jobs.add(job, 7, 500, 42)  # no token: its messages go to the channel
        record = await store.jobs.get(job.job_id)
        assert record is not None
        poster = Poster(client, render=None, status_view=lambda job_id: discord.ui.View())  # type: ignore[arg-type]
        first = await poster.send(record, "The answer.", part="result")
        again = await poster.send(record, "The answer.", part="result")  # a retry, or another process
        other = await poster.send(record, "More of it.", part="extra-1")
        assert again.id == first.id != other.id and fake.nonce_repeats == 1
        assert [m["content"] for m in fake.messages("500")] == ["The answer.", "More of it."]
        [create, *_] = [r.json for r in fake.requests if r.method == "POST" and r.path == "/channels/500/messages"]
        assert create is not None and create["nonce"] == nonce(job.job_id, "result") and create["enforce_nonce"]
    finally:
        await client.close()
        await store.close()
