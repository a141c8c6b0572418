"""/introduce, and "@Implementor introduce yourself": the server's colleague shows who it is.

The first call hires a colleague (a job for the workers: a face and a CV) and stores it; later calls
show the same colleague from the store, with no job at all. `new: True` hires another one.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.render import NO_PINGS, Rendered, cv_embed, face_file
from bot.runner import Destination, JobRunner
from bot.store import Store
from bot.views import ResultView
from contracts.errors import InputError, RateLimited
from contracts.jobs import IntroduceJob, IntroduceResult, Result

log = logging.getLogger(__name__)
TRIGGER = re.compile(r"\bintroduce\s+yourself\b", re.IGNORECASE)


class Introduce(commands.Cog):
    def __init__(self, *, store: Store, runner: JobRunner, result_view: ResultView,
                 me: Callable[[], discord.abc.Snowflake | None]) -> None:
        self.store, self.runner, self.result_view = store, runner, result_view
        self.me = me  # the bot's own user, None until it has logged in: a message must mention it

    @app_commands.command(name="introduce")
    @app_commands.describe(new="Hire another colleague instead of meeting the current one.")
    @app_commands.guild_only()
    async def introduce(self, interaction: discord.Interaction, new: bool = False) -> None:
        """The server's colleague introduces itself: a face and a CV."""
        await interaction.response.defer(thinking=True)
        destination = Destination(interaction.channel, interaction, time.monotonic())  # type: ignore[arg-type]
        await self.run(destination, interaction.user.id, interaction.guild_id, new)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """"@Implementor introduce yourself": mentions carry their content without the privileged intent."""
        me = self.me()
        if message.author.bot or me is None or me not in message.mentions:
            return
        if not TRIGGER.search(message.content) or message.guild is None:
            return
        try:
            await self.run(Destination(message.channel), message.author.id, message.guild.id, new=False)
        except (RateLimited, InputError) as exc:
            await message.reply(str(exc), allowed_mentions=NO_PINGS)

    async def run(self, destination: Destination, user_id: int, guild_id: int | None, new: bool) -> None:
        if guild_id is None:
            raise InputError("I introduce myself in servers, not in direct messages.")
        current = await self.store.colleague(guild_id)
        if current is not None and not new:
            rendered = cv_embed(current.name, current.title, current.cv, image_url="attachment://face.png")
            await destination.send(embed=rendered.embed, files=[face_file(png=current.png)])
            for extra in rendered.follow_ups:
                await destination.send(extra)
            return
        job = IntroduceJob()

        async def post(result: Result) -> tuple[Rendered, list[discord.File], discord.ui.View | None]:
            assert isinstance(result, IntroduceResult) and result.profile is not None
            profile = result.profile
            await self.store.hire(guild_id, profile.name, profile.title, profile.seed, profile.cv,
                                  base64.b64decode(profile.png_base64), user_id)
            rendered = cv_embed(profile.name, profile.title, profile.cv, image_url="attachment://face.png")
            return rendered, [face_file(profile.png_base64)], self.result_view(job.job_id, "introduce")

        await self.runner.start(job, user_id, guild_id, destination, post)
