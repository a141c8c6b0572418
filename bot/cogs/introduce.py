"""/introduce, and "@Implementor introduce yourself": the server's colleague shows who it is.

The first call hires a colleague (a job for the workers: a face and a CV) and stores it; later calls
show the same colleague from the store, with no job at all. `new: True` hires another one.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.limits import RateLimited
from bot.render import Rendered, cv_embed
from bot.runner import NO_PINGS, Destination, face_file
from bot.views import result_view
from config.errors import InputError
from workers.schemas import IntroduceJob, IntroduceResult, Result

if TYPE_CHECKING:
    from bot.app import ImplementorBot

log = logging.getLogger(__name__)
TRIGGER = re.compile(r"\bintroduce\s+yourself\b", re.IGNORECASE)


class Introduce(commands.Cog):
    def __init__(self, bot: ImplementorBot) -> None:
        self.bot = bot

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
        if message.author.bot or self.bot.user is None or self.bot.user not in message.mentions:
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
        current = await self.bot.store.colleague(guild_id)
        if current is not None and not new:
            rendered = cv_embed(current.name, current.title, current.cv, image_url="attachment://face.png")
            await destination.send(embed=rendered.embed, files=[face_file(png=current.png)])
            for extra in rendered.follow_ups:
                await destination.send(extra)
            return
        job = IntroduceJob()

        async def post(result: Result) -> tuple[Rendered, list[discord.File], discord.ui.View | None]:
            assert isinstance(result, IntroduceResult) and result.persona is not None
            persona = result.persona
            import base64

            await self.bot.store.hire(guild_id, persona.name, persona.title, persona.seed, persona.cv,
                                      base64.b64decode(persona.png_base64), user_id)
            rendered = cv_embed(persona.name, persona.title, persona.cv, image_url="attachment://face.png")
            return rendered, [face_file(persona.png_base64)], result_view(job.job_id, "introduce")

        await self.bot.runner.start(job, user_id, guild_id, destination, post)


class Team(commands.Cog):
    def __init__(self, bot: ImplementorBot) -> None:
        self.bot = bot

    @app_commands.command(name="team")
    @app_commands.guild_only()
    async def team(self, interaction: discord.Interaction) -> None:
        """Everyone this server has hired, newest last."""
        roster = await self.bot.store.roster(interaction.guild_id or 0)
        if not roster:
            await interaction.response.send_message("Nobody yet: try /introduce.", ephemeral=True,
                                                    allowed_mentions=NO_PINGS)
            return
        lines = [f"{c.position}. **{discord.utils.escape_markdown(c.name)}**, {discord.utils.escape_markdown(c.title)}"
                 for c in roster]
        embed = discord.Embed(title="The team", description="\n".join(lines)[:4096])
        await interaction.response.send_message(embed=embed, allowed_mentions=NO_PINGS)
