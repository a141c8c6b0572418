"""Commands for the Discord side: run the bot, and export members' ratings for the quality model."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from config import get_settings
from config.settings import Settings
from contracts.errors import ConfigError
from implementor.console import done


def bot() -> None:
    """Run the Discord bot (needs IMPLEMENTOR_DISCORD_TOKEN and IMPLEMENTOR_BROKER_URL)."""
    settings = get_settings()
    if settings.discord_token is None:
        raise ConfigError("set IMPLEMENTOR_DISCORD_TOKEN to the bot's token (see the README's Discord section)")
    if settings.broker_url is None:
        raise ConfigError("the bot queues jobs for the workers: set IMPLEMENTOR_BROKER_URL (redis://...)")
    from workers.client import check_redis

    check_redis(settings.broker_url.get_secret_value())
    asyncio.run(run_bot(settings))


async def run_bot(settings: Settings) -> None:
    """The bot with its real dependencies: the SQLite store, limits in Redis, the job client."""
    import redis.asyncio as aioredis

    from bot.app import create_bot
    from bot.limits import LimitConfig, Limits
    from bot.store import Store
    from workers.app import create_app
    from workers.client import JobClient

    assert settings.broker_url is not None and settings.discord_token is not None
    store = await Store(settings.bot_store_path).open()
    limits = Limits(aioredis.Redis.from_url(settings.broker_url.get_secret_value()),
                    LimitConfig(settings.user_cooldown_s, settings.user_max_in_flight, settings.queue_cap,
                                slot_lifetime_s=settings.result_ttl_s))
    client = create_bot(settings, JobClient(create_app(settings)), store, limits)
    async with client:
        await client.start(settings.discord_token.get_secret_value())


def export(
    out: Annotated[Path, typer.Argument(help="JSONL file to write (request, reply, rating per line).")],
    store: Annotated[Path | None, typer.Option(help="The bot's SQLite store. Default: IMPLEMENTOR_BOT_STORE_PATH.")]
    = None,
) -> None:
    """Export members' ratings as the JSONL that `implementor train quality --feedback` reads."""
    from bot.store import Store

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
