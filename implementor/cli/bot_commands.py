"""Commands for the Discord side: run the bot, register its slash commands, export ratings, back up the store."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from implementor.cli.console import done
from implementor.config import get_settings
from implementor.config.settings import Settings
from implementor.contracts.errors import ConfigError


def bot(ctx: typer.Context) -> None:
    """Run the Discord bot (needs IMPLEMENTOR_DISCORD_TOKEN and IMPLEMENTOR_BROKER_URL)."""
    if ctx.invoked_subcommand is not None:
        return  # `implementor bot sync`
    settings = get_settings()
    _token(settings)
    if settings.broker_url is None:
        raise ConfigError("the bot queues jobs for the workers: set IMPLEMENTOR_BROKER_URL (redis://...)")
    from implementor.workers.client import check_redis

    check_redis(settings.broker_url.get_secret_value())
    asyncio.run(run_bot(settings))


def sync(
    guild: Annotated[int | None, typer.Option(help="A server (guild) id: sync there, at once, instead of globally.")]
    = None,
) -> None:
    """Register the slash commands with Discord now: globally (clients see them within an hour), or to one server."""
    settings = get_settings()
    _token(settings)
    count = asyncio.run(sync_commands(settings, guild))
    done(f"{count} commands synced " + (f"to the server {guild}" if guild else "globally"))


def _token(settings: Settings) -> str:
    if settings.discord_token is None:
        raise ConfigError("set IMPLEMENTOR_DISCORD_TOKEN to the bot's token (docs/bot.md says how to make one)")
    return settings.discord_token.get_secret_value()


async def build_bot(settings: Settings, serve: bool = True) -> Any:
    """The bot with its real dependencies: the SQLite store, limits in Redis, the job client."""
    import redis.asyncio as aioredis

    from implementor.bot.app import create_bot
    from implementor.bot.limits import LimitConfig, Limits
    from implementor.store.database import Store
    from implementor.workers.client import stack_client

    # Only a serving bot talks to Redis; `bot sync` builds the same command tree without one.
    url = settings.broker_url.get_secret_value() if settings.broker_url else "redis://localhost:6379/0"
    store = await Store(settings.bot_store_path).open()
    limits = Limits(aioredis.Redis.from_url(url),
                    LimitConfig(settings.user_cooldown_s, settings.user_max_in_flight, settings.queue_cap,
                                slot_lifetime_s=settings.result_ttl_s))
    return create_bot(settings, stack_client(settings, url), store, limits, serve=serve)


async def run_bot(settings: Settings) -> None:
    """The bot as `implementor bot` runs it, until it is closed or drained by SIGTERM."""
    client = await build_bot(settings)
    if settings.bot_metrics_port is not None:
        client.metrics.serve(settings.bot_metrics_port)
    loop = asyncio.get_running_loop()
    # compose and Kubernetes stop a container with SIGTERM, then SIGKILL 10 s (the grace period) later.
    for stop in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop, client.drain_soon)
    async with client:
        await client.start(_token(settings))
    await client.drained()


async def sync_commands(settings: Settings, guild_id: int | None) -> int:
    """Log in over REST only (no gateway), build the command tree, and sync it."""
    from implementor.bot import command_sync

    client = await build_bot(settings, serve=False)
    async with client:
        await client.login(_token(settings))
        return await command_sync.sync(client.tree, client.store, guild_id)


def export(
    out: Annotated[Path, typer.Argument(help="JSONL file to write (request, reply, rating per line).")],
    store: Annotated[Path | None, typer.Option(help="The bot's SQLite store. Default: IMPLEMENTOR_BOT_STORE_PATH.")]
    = None,
) -> None:
    """Export members' ratings as the JSONL that `implementor train quality --feedback` reads."""
    from implementor.store.database import Store

    path = store or get_settings().bot_store_path
    if not Path(path).exists():
        raise ConfigError(f"no bot store at {path}; set IMPLEMENTOR_BOT_STORE_PATH or pass --store")

    async def main() -> int:
        opened = await Store(path).open()
        try:
            return await opened.export_feedback(out)
        finally:
            await opened.close()

    count = asyncio.run(main())
    done(f"{count} ratings exported", out)


def backup(
    out: Annotated[Path, typer.Argument(help="The copy to write: one self-contained SQLite file.")],
    store: Annotated[Path | None, typer.Option(help="The bot's SQLite store. Default: IMPLEMENTOR_BOT_STORE_PATH.")]
    = None,
) -> None:
    """Copy the bot's store while the bot and the learner run (SQLite's online backup, never a torn copy)."""
    from implementor.store.sqlite import backup as copy

    path = store or get_settings().bot_store_path
    if not Path(path).is_file():
        raise ConfigError(f"no bot store at {path}; set IMPLEMENTOR_BOT_STORE_PATH or pass --store")
    if Path(out).resolve() == Path(path).resolve():
        raise ConfigError(f"the backup would overwrite the store itself ({path}); name another file")
    pages = copy(Path(path), out)
    done(f"the store backed up ({pages} pages)", out)
