"""/project: bring the colleague a piece of work; it answers with its experience, an approach and a next step.

`Project.run_project` is also what a result's Regenerate button runs: `bot.app.wire` hands it to the buttons.
"""

from __future__ import annotations

import time

import discord
from discord import app_commands
from discord.ext import commands
from pydantic import ValidationError

from bot.render import Rendered, face_file, reply_embed
from bot.runner import Destination, JobRunner
from bot.store import Store
from bot.views import ResultView
from contracts.errors import InputError
from contracts.jobs import REQUEST_MAX, REQUEST_MIN, ProjectJob, ProjectResult, Result


def validated(description: str) -> ProjectJob:
    """The job for a description; Discord's own length check can be bypassed, so check again here."""
    try:
        return ProjectJob(request=description)
    except ValidationError as exc:
        raise InputError(f"Describe the project in {REQUEST_MIN} to {REQUEST_MAX} characters "
                         f"(after removing invisible characters).") from exc


class Project(commands.Cog):
    def __init__(self, *, store: Store, runner: JobRunner, result_view: ResultView) -> None:
        self.store, self.runner, self.result_view = store, runner, result_view

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
        """Queue a request for an interaction already deferred (by /project, or by the Regenerate button)."""
        job = validated(request)
        colleague = await self.store.colleague(interaction.guild_id or 0)
        destination = Destination(interaction.channel, interaction, time.monotonic())  # type: ignore[arg-type]

        async def post(result: Result) -> tuple[Rendered, list[discord.File], discord.ui.View | None]:
            assert isinstance(result, ProjectResult) and result.reply is not None
            name, title = (colleague.name, colleague.title) if colleague else ("The Implementor", "Consultant")
            files = [face_file(png=colleague.png, name="face.png")] if colleague else []
            rendered = reply_embed(name, title, result.reply, "attachment://face.png" if colleague else None,
                                   result.low_confidence)
            return rendered, files, self.result_view(job.job_id, "project")

        await self.runner.start(job, interaction.user.id, interaction.guild_id, destination, post)
