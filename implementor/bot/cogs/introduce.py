"""/introduce, and "@Implementor introduce yourself": the server's colleague shows who it is.

The first call hires a colleague (a job for the workers: a face and a CV; the roster gains them
when the result is posted) and later calls show the same colleague from the store, with no job at
all. `new: True` hires another one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from implementor.bot.errors import refuse_message
from implementor.bot.render import NO_PINGS, Rendered, cv_embed, face_file
from implementor.bot.runner import JobRunner
from implementor.contracts.errors import InputError, RateLimited
from implementor.contracts.jobs import IntroduceJob
from implementor.store.database import Colleague, Store

log = logging.getLogger(__name__)
TRIGGER = re.compile(r"\bintroduce\s+yourself\b", re.IGNORECASE)


def introduction(colleague: Colleague) -> Rendered:
    return cv_embed(colleague.name, colleague.title, colleague.cv, image_url="attachment://face.png")


class Introduce(commands.Cog):
    def __init__(self, *, store: Store, runner: JobRunner, me: Callable[[], discord.abc.Snowflake | None]) -> None:
        self.store, self.runner = store, runner
        self.me = me  # the bot's own user, None until it has logged in: a message must mention it

    @app_commands.command(name="introduce")
    @app_commands.describe(new="Hire another colleague instead of meeting the current one.")
    @app_commands.guild_only()
    async def introduce(self, interaction: discord.Interaction, new: bool = False) -> None:
        """The server's colleague introduces itself: a face and a CV."""
        if interaction.guild_id is None:
            raise InputError("I introduce myself in servers, not in direct messages.")
        current = await self.store.colleague(interaction.guild_id)
        if current is not None and not new:
            rendered = introduction(current)
            await interaction.response.send_message(embeds=rendered.embeds, file=face_file(png=current.png),
                                                    allowed_mentions=NO_PINGS)
            for extra in rendered.follow_ups:
                await interaction.followup.send(extra, allowed_mentions=NO_PINGS)
            return
        await self.runner.accept(IntroduceJob(), interaction.user.id, interaction.guild_id,
                                 interaction.channel_id or 0, interaction=interaction)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """"@Implementor introduce yourself": mentions carry their content without the privileged intent."""
        me = self.me()
        if message.author.bot or me is None or me not in message.mentions:
            return
        if not TRIGGER.search(message.content) or message.guild is None:
            return
        current = await self.store.colleague(message.guild.id)
        try:
            if current is not None:
                rendered = introduction(current)
                await message.channel.send(embeds=rendered.embeds, file=face_file(png=current.png),
                                           allowed_mentions=NO_PINGS)
                for extra in rendered.follow_ups:
                    await message.channel.send(extra, allowed_mentions=NO_PINGS)
                return
            await self.runner.accept(IntroduceJob(), message.author.id, message.guild.id, message.channel.id,
                                     reply_to=message)
        except (RateLimited, InputError) as exc:
            await refuse_message(message, str(exc))  # privately, as a slash command's refusal is
