"""Registering the slash commands, against the fake Discord's REST API (tests/support/fake_discord.py):
the real bot logs in (REST only, no gateway), and its setup_hook syncs the tree."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import discord
import fakeredis
import pytest
from bot_fake_queue import FakeJobs
from fake_discord import APPLICATION_ID, FakeDiscord
from postgres_server import PostgresServer
from pydantic import SecretStr

from implementor.bot import command_sync
from implementor.bot.app import create_bot
from implementor.bot.limits import LimitConfig, Limits
from implementor.config.settings import Settings
from implementor.store.database import Store
from implementor.store.jobbook import Claims
from implementor.store.opening import migrate_store

TOKEN = "fake." + "x" * 60
GLOBAL = f"/applications/{APPLICATION_ID}/commands"


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    yield Settings(discord_token=SecretStr(TOKEN), bot_store_path=tmp_path / "bot.sqlite3")


async def start_and_stop(settings: Settings, serve: bool = True) -> None:
    """One start of the bot as far as Discord's REST API: login runs setup_hook, which syncs."""
    store = await Store(settings.bot_store_path).open()
    limits = Limits(fakeredis.FakeAsyncRedis(), LimitConfig(0, 2, 50))
    client = create_bot(settings, FakeJobs(), store, limits, serve=serve)
    async with client:
        await client.login(TOKEN)


def overwrites(fake: FakeDiscord, path: str = GLOBAL) -> int:
    return sum(1 for r in fake.requests if r.method == "PUT" and r.path == path)


async def test_the_first_start_registers_every_command_globally_and_a_restart_sends_nothing(
        fake: FakeDiscord, settings: Settings) -> None:
    await start_and_stop(settings)
    assert overwrites(fake) == 1
    names = {c["name"] for c in fake.commands["global"]}
    assert {"introduce", "project", "team", "learn"} <= names
    await start_and_stop(settings)  # a restart, same tree, same store
    assert overwrites(fake) == 1


async def test_three_processes_starting_at_once_on_one_store_register_the_commands_once(
        fake: FakeDiscord, postgres_server: PostgresServer) -> None:
    url = postgres_server.fresh()
    await migrate_store(url)
    fake.overwrite_delay_s = 0.5  # the others start while the first one's sync is on its way
    settings = Settings(discord_token=SecretStr(TOKEN), store_url=SecretStr(url))

    async def one_process(i: int) -> None:
        store = await Store(url, Claims(f"bot-{i}")).open()
        client = create_bot(settings, FakeJobs(), store, Limits(fakeredis.FakeAsyncRedis(), LimitConfig(0, 2, 50)))
        async with client:
            await client.login(TOKEN)

    await asyncio.gather(*(one_process(i) for i in range(3)))
    assert overwrites(fake) == 1  # one took the lease and synced; the others found its hash
    store = await Store(url).open()
    assert await store.leases.holder(command_sync.SYNC_LEASE) is None  # given back
    await store.close()


async def test_a_changed_tree_is_synced_again(fake: FakeDiscord, settings: Settings) -> None:
    await start_and_stop(settings)
    store = await Store(settings.bot_store_path).open()
    await store.set_meta(command_sync.GLOBAL_KEY, "the hash of an older tree")
    await store.close()
    await start_and_stop(settings)
    assert overwrites(fake) == 2


async def test_a_development_server_gets_the_commands_at_every_start_and_the_global_set_is_left_alone(
        fake: FakeDiscord, tmp_path: Path) -> None:
    settings = Settings(discord_token=SecretStr(TOKEN), bot_store_path=tmp_path / "bot.sqlite3", dev_guild_id=77)
    await start_and_stop(settings)
    await start_and_stop(settings)
    assert overwrites(fake, f"/applications/{APPLICATION_ID}/guilds/77/commands") == 2
    assert overwrites(fake) == 0


async def test_a_failed_sync_is_tried_again_at_the_next_start(fake: FakeDiscord, settings: Settings) -> None:
    fake.rate_limit_next(GLOBAL, times=50)  # discord.py gives up after its retries
    await start_and_stop(settings)  # the bot starts all the same
    assert "global" not in fake.commands
    fake.rate_limit_next(GLOBAL, times=0)
    await start_and_stop(settings)
    assert "global" in fake.commands


async def test_bot_sync_forces_a_global_sync_or_one_to_a_server(fake: FakeDiscord, settings: Settings) -> None:
    from implementor.cli.bot_commands import sync_commands

    assert await sync_commands(settings, None) == len(fake.commands["global"]) > 0
    assert await sync_commands(settings, None) > 0
    assert overwrites(fake) == 2  # forced: the hash does not stop an operator
    await sync_commands(settings, 77)
    assert overwrites(fake, f"/applications/{APPLICATION_ID}/guilds/77/commands") == 1


def test_the_hash_follows_the_tree() -> None:
    client = discord.Client(intents=discord.Intents.none())
    tree = discord.app_commands.CommandTree(client)
    empty = command_sync.tree_hash(tree)

    @tree.command(name="hello", description="Say hello.")
    async def hello(interaction: discord.Interaction) -> None: ...

    assert command_sync.tree_hash(tree) != empty
