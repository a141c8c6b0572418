"""Commands for the Discord side: run the bot, register its slash commands, export ratings, back up and migrate
the store."""

from __future__ import annotations

import asyncio
import signal
import socket
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
    """The bot with its real dependencies: the store (SQLite or PostgreSQL), limits in Redis, the job client."""
    import redis.asyncio as aioredis

    from implementor.bot.app import create_bot
    from implementor.bot.limits import LimitConfig, Limits
    from implementor.store.database import Store
    from implementor.store.jobbook import Claims
    from implementor.workers.client import stack_client

    # Only a serving bot talks to Redis; `bot sync` builds the same command tree without one.
    url = settings.broker_url.get_secret_value() if settings.broker_url else "redis://localhost:6379/0"
    shards = settings.shards()
    # Named by its host and shards, not its pid: restarted (the same container, the same StatefulSet pod), the
    # process takes its own claims back at once instead of waiting for their leases to lapse.
    claims = Claims(owner=f"{socket.gethostname()}/shards-{'-'.join(map(str, shards))}",
                    lease_s=settings.claim_lease_s, shard_count=settings.shard_count, shard_ids=shards)
    store = await Store(settings.store_target, claims).open()
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
    store: Annotated[str | None, typer.Option(help="The bot's store (a SQLite file, or a URL). Default: "
                                                   "IMPLEMENTOR_STORE_URL, else IMPLEMENTOR_BOT_STORE_PATH.")] = None,
) -> None:
    """Export members' ratings as the JSONL that `implementor train quality --feedback` reads."""
    from implementor.store.connection import dialect_of, sqlite_path
    from implementor.store.database import Store

    path = store or get_settings().store_target
    if dialect_of(path) == "sqlite" and not Path(sqlite_path(path)).exists():
        raise ConfigError(f"no bot store at {path}; set IMPLEMENTOR_STORE_URL or pass --store")

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
    from implementor.store.connection import dialect_of
    from implementor.store.sqlite import backup as copy

    if store is None and dialect_of(get_settings().store_target) == "postgresql":
        raise ConfigError("the store is PostgreSQL (IMPLEMENTOR_STORE_URL): back it up with pg_dump")
    path = store or get_settings().bot_store_path
    if not Path(path).is_file():
        raise ConfigError(f"no bot store at {path}; set IMPLEMENTOR_BOT_STORE_PATH or pass --store")
    if Path(out).resolve() == Path(path).resolve():
        raise ConfigError(f"the backup would overwrite the store itself ({path}); name another file")
    pages = copy(Path(path), out)
    done(f"the store backed up ({pages} pages)", out)


def migrate() -> None:
    """Create the store's tables, or bring them to this version's schema (exit 0 when up to date). A PostgreSQL
    store needs it once per release, before the bot, the learner and beat start; a SQLite one migrates itself."""
    from implementor.store.migrations import LATEST
    from implementor.store.opening import migrate_store

    applied = asyncio.run(migrate_store(get_settings().store_target))
    done(f"the store applied migrations {', '.join(map(str, applied))}; now at schema version {LATEST}" if applied
         else f"the store is up to date (schema version {LATEST})")
