"""The bot: a `commands.Bot` subclass with its dependencies injected, built by `create_bot`; and `wire`,
the one place that decides which part gets what.

    ImplementorBot(settings=, jobs=, store=, limits=)          setup_hook calls wire(), then registers:
      Buttons(ButtonActions(store, cancel, regenerate))       the five button classes, bound
      JobRunner(jobs, store, limits, wait_timeout_s, status_view=buttons.status_view)
      Introduce(store, runner, result_view, me)   Team(store)   Feedback(store)
      Project(store, runner, result_view)                     its run_project is the buttons' regenerate

No part holds the bot, and no part looks another up.

It needs no privileged intents: slash commands come as interactions, and a message that mentions the
bot carries its content anyway. Everything it sends is sent with `AllowedMentions.none()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord
from discord.ext import commands

from bot.cogs.feedback import Feedback
from bot.cogs.introduce import Introduce
from bot.cogs.project import Project
from bot.cogs.team import Team
from bot.errors import ImplementorTree
from bot.limits import Limits
from bot.render import NO_PINGS
from bot.runner import JobRunner, Jobs
from bot.store import Store
from bot.views import ButtonActions, Buttons
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


@dataclass(frozen=True)
class Wiring:
    """The bot's parts, each built with what it uses."""

    runner: JobRunner
    buttons: Buttons
    introduce: Introduce
    team: Team
    project: Project
    feedback: Feedback

    @property
    def cogs(self) -> tuple[commands.Cog, ...]:
        return self.introduce, self.team, self.project, self.feedback


def wire(*, jobs: Jobs, store: Store, limits: Limits, wait_timeout_s: float,
         me: Callable[[], discord.abc.Snowflake | None]) -> Wiring:
    """Build the runner, the buttons and the cogs, and connect them."""

    # The buttons and the work they start need each other: the runner puts a Cancel button on every
    # status message, and a Regenerate button runs the Project cog, which posts a result with buttons.
    # These two functions close the loop: they reach the runner and the cog when a member clicks.
    async def cancel(job_id: str) -> bool:
        return await runner.cancel(job_id)

    async def regenerate(interaction: discord.Interaction, request: str) -> None:
        await project.run_project(interaction, request)

    buttons = Buttons(ButtonActions(store=store, cancel=cancel, regenerate=regenerate))
    runner = JobRunner(jobs=jobs, store=store, limits=limits, wait_timeout_s=wait_timeout_s,
                       status_view=buttons.status_view)
    project = Project(store=store, runner=runner, result_view=buttons.result_view)
    introduce = Introduce(store=store, runner=runner, result_view=buttons.result_view, me=me)
    return Wiring(runner, buttons, introduce, Team(store=store), project, Feedback(store=store))


class ImplementorBot(commands.Bot):
    def __init__(self, *, settings: Settings, jobs: Jobs, store: Store, limits: Limits, **options: Any) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=intents(), tree_cls=ImplementorTree,
                         allowed_mentions=NO_PINGS, help_command=None, **options)
        self.settings, self.jobs, self.store, self.limits = settings, jobs, store, limits
        self.wiring: Wiring | None = None  # built in setup_hook
        self.dynamic_items: tuple[type[discord.ui.DynamicItem[Any]], ...] = ()  # the button classes registered

    async def setup_hook(self) -> None:
        self.wiring = wire(jobs=self.jobs, store=self.store, limits=self.limits,
                           wait_timeout_s=self.settings.task_time_limit_s * 3, me=lambda: self.user)
        for cog in self.wiring.cogs:
            try:
                await self.add_cog(cog)
            except Exception:
                log.exception("could not load the %s cog", type(cog).__name__)
        self.dynamic_items = self.wiring.buttons.dynamic_items
        self.add_dynamic_items(*self.dynamic_items)  # buttons keep working across restarts
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to the development server %s", len(synced), guild.id)

    async def on_ready(self) -> None:
        log.info("logged in as %s (%s) in %d servers", self.user, getattr(self.user, "id", "?"), len(self.guilds))

    async def close(self) -> None:
        if self.wiring is not None:
            for task in list(self.wiring.runner.running.values()):
                task.cancel()
        await super().close()
        await self.store.close()


def create_bot(settings: Settings, jobs: Jobs, store: Store, limits: Limits, **options: Any) -> ImplementorBot:
    return ImplementorBot(settings=settings, jobs=jobs, store=store, limits=limits, **options)
