"""The real bot, as `implementor bot` runs it, pointed at a fake Discord: for the fault suite's bot process.

    python tests/support/run_bot.py http://127.0.0.1:PORT/api/v10 ws://127.0.0.1:PORT/gateway

Settings come from the environment, as in production (IMPLEMENTOR_BROKER_URL, IMPLEMENTOR_BOT_STORE_PATH, ...).
Only where Discord is changes: discord.py's REST base (bot and webhooks) and its gateway.
"""

from __future__ import annotations

import asyncio
import faulthandler
import signal
import sys

import discord
from discord.gateway import DiscordWebSocket
from discord.webhook import async_ as webhooks
from yarl import URL

from implementor.cli.bot_commands import run_bot
from implementor.config import get_settings, setup_logging


def main() -> None:
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints every thread's stack to the log
    api, gateway = sys.argv[1], sys.argv[2]
    discord.http.Route.BASE = webhooks.Route.BASE = api  # type: ignore[misc]
    DiscordWebSocket.DEFAULT_GATEWAY = URL(gateway)
    settings = get_settings()
    setup_logging(settings.log_level, settings.log_format)
    asyncio.run(run_bot(settings))


if __name__ == "__main__":
    main()
