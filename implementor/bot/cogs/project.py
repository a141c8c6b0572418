"""/project: bring the colleague a piece of work; it answers with its experience, an approach and a next step.

The reply is written in the voice of the server's current colleague (their name, title and the first
skills of their CV travel with the job). With nobody on the team, the request hires one first (the
worker makes a face and a CV, as /introduce does), who answers it and joins the roster.
`Project.regenerate` is what a result's Regenerate button
runs: `implementor.bot.app.wire` hands it to the buttons. It is a request like any other, the cooldown
included (else a member could draft without end by clicking), answered in place: its status shows
above the answer it replaces, and its answer takes that one's place in the same message.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands
from pydantic import ValidationError

from implementor.bot.runner import JobRunner
from implementor.contracts.errors import InputError
from implementor.contracts.jobs import REQUEST_MAX, REQUEST_MIN, ProjectJob, new_job_id
from implementor.contracts.persona import Persona
from implementor.store.database import Colleague, Store
from implementor.store.jobbook import JobRecord


def persona_of(colleague: Colleague | None) -> Persona | None:
    """Who a colleague on the roster is, as a project job carries them (None: nobody answers as anyone)."""
    return Persona.from_cv(colleague.name, colleague.title, colleague.cv) if colleague else None


def validated(description: str, colleague: Persona | None = None, explore: float | None = None,
              hire: bool = False) -> ProjectJob:
    """The job for a description; Discord's own length check can be bypassed, so check again here."""
    try:
        return ProjectJob(request=description, colleague=colleague, explore=explore, hire=hire)
    except ValidationError as exc:
        raise InputError(f"Describe the project in {REQUEST_MIN} to {REQUEST_MAX} characters "
                         f"(after removing invisible characters).") from exc


class Project(commands.Cog):
    def __init__(self, *, store: Store, runner: JobRunner) -> None:
        self.store, self.runner = store, runner

    @app_commands.command(name="project")
    @app_commands.describe(description="What you need help with: the work, the context, the deadline.")
    @app_commands.guild_only()
    async def project(self, interaction: discord.Interaction,
                      description: app_commands.Range[str, REQUEST_MIN, REQUEST_MAX]) -> None:
        """Ask the colleague for help with a project."""
        await self.ask(interaction, description)

    async def ask(self, interaction: discord.Interaction, request: str, replaces: JobRecord | None = None) -> None:
        """Queue a request, answering the interaction (refusals are private: nothing was said before)."""
        validated(request)  # a bad description is refused before the limits are touched
        colleague = await self.store.colleague(interaction.guild_id or 0)
        persona = persona_of(colleague)
        own = await self.store.servers.get(interaction.guild_id or 0)
        # Nobody on the team: the request hires its colleague first, who answers it. One hire per server: a
        # request made while it is under way is answered as nobody (the runner decides, in line), not refused,
        # which would turn a server's first burst of requests away.
        job = validated(request, persona, explore=0.0 if own.explore is False else None, hire=colleague is None)
        await self.runner.accept(job, interaction.user.id, interaction.guild_id, interaction.channel_id or 0,
                                 interaction=interaction, colleague_id=colleague.id if colleague else None,
                                 replaces=replaces)

    async def regenerate(self, interaction: discord.Interaction, record: JobRecord) -> None:
        """Ask a posted reply's request again; the new answer takes the old one's place, in its message.
        A follow-up is asked again as it was (its conversation, its colleague), under a new id."""
        assert record.request is not None
        queued = record.queued_job()
        if isinstance(queued, ProjectJob) and record.parent_job_id is not None and record.message_id is not None:
            await self.runner.accept(queued.model_copy(update={"job_id": new_job_id()}), interaction.user.id,
                                     interaction.guild_id, interaction.channel_id or 0, interaction=interaction,
                                     colleague_id=record.colleague_id, replaces=record, follows=record.parent_job_id)
            return
        await self.ask(interaction, record.request, replaces=record if record.message_id is not None else None)
