"""The bot: a `commands.Bot` subclass with its dependencies injected, built by `create_bot`.

It needs no privileged intents: slash commands come as interactions, and a message that mentions the
bot carries its content anyway. Everything it sends is sent with `AllowedMentions.none()`.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from bot.cogs.feedback import Feedback
from bot.cogs.introduce import Introduce, Team
from bot.cogs.project import Project
from bot.errors import ImplementorTree
from bot.limits import Limits
from bot.runner import JobRunner, Jobs
from bot.store import Store
from bot.views import DYNAMIC_ITEMS
from config.settings import Settings

log = logging.getLogger(__name__)

# The bot never joins voice channels; do not warn at every start that voice libraries are missing.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


def intents() -> discord.Intents:
    chosen = discord.Intents.none()
    chosen.guilds = True  # slash commands and channels
    chosen.guild_messages = True  # "@Implementor introduce yourself"
    return chosen


class ImplementorBot(commands.Bot):
    def __init__(self, *, settings: Settings, jobs: Jobs, store: Store, limits: Limits, **options: Any) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=intents(), tree_cls=ImplementorTree,
                         allowed_mentions=discord.AllowedMentions.none(), help_command=None, **options)
        self.settings, self.jobs, self.store, self.limits = settings, jobs, store, limits
        self.runner = JobRunner(self)

    async def setup_hook(self) -> None:
        for cog in (Introduce(self), Team(self), Project(self), Feedback(self)):
            try:
                await self.add_cog(cog)
            except Exception:
                log.exception("could not load the %s cog", type(cog).__name__)
        self.add_dynamic_items(*DYNAMIC_ITEMS)  # buttons keep working across restarts
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to the development server %s", len(synced), guild.id)

    async def on_ready(self) -> None:
        log.info("logged in as %s (%s) in %d servers", self.user, getattr(self.user, "id", "?"), len(self.guilds))

    async def close(self) -> None:
        for task in list(self.runner.running.values()):
            task.cancel()
        await super().close()
        await self.store.close()


def create_bot(settings: Settings, jobs: Jobs, store: Store, limits: Limits, **options: Any) -> ImplementorBot:
    return ImplementorBot(settings=settings, jobs=jobs, store=store, limits=limits, **options)
