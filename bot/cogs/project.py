"""/project: bring the colleague a piece of work; it answers with its experience, an approach and a next step."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands
from pydantic import ValidationError

from bot.render import Rendered, reply_embed
from bot.runner import Destination, face_file
from bot.views import result_view
from config.errors import InputError
from workers.schemas import REQUEST_MAX, REQUEST_MIN, ProjectJob, ProjectResult, Result

if TYPE_CHECKING:
    from bot.app import ImplementorBot


def validated(description: str) -> ProjectJob:
    """The job for a description; Discord's own length check can be bypassed, so check again here."""
    try:
        return ProjectJob(request=description)
    except ValidationError as exc:
        raise InputError(f"Describe the project in {REQUEST_MIN} to {REQUEST_MAX} characters "
                         f"(after removing invisible characters).") from exc


class Project(commands.Cog):
    def __init__(self, bot: ImplementorBot) -> None:
        self.bot = bot

    @app_commands.command(name="project")
    @app_commands.describe(description="What you need help with: the work, the context, the deadline.")
    @app_commands.guild_only()
    async def project(self, interaction: discord.Interaction,
                      description: app_commands.Range[str, REQUEST_MIN, REQUEST_MAX]) -> None:
        """Ask the colleague for help with a project."""
        job = validated(description)
        await interaction.response.defer(thinking=True)
        await self.run_project(interaction, job.request)

    async def run_project(self, interaction: discord.Interaction, request: str) -> None:
        job = validated(request)
        colleague = await self.bot.store.colleague(interaction.guild_id or 0)
        destination = Destination(interaction.channel, interaction, time.monotonic())  # type: ignore[arg-type]

        async def post(result: Result) -> tuple[Rendered, list[discord.File], discord.ui.View | None]:
            assert isinstance(result, ProjectResult) and result.reply is not None
            name, title = (colleague.name, colleague.title) if colleague else ("The Implementor", "Consultant")
            files = [face_file(png=colleague.png, name="face.png")] if colleague else []
            rendered = reply_embed(name, title, result.reply, "attachment://face.png" if colleague else None,
                                   result.low_confidence)
            return rendered, files, result_view(job.job_id, "project")

        await self.bot.runner.start(job, interaction.user.id, interaction.guild_id, destination, post)
