"""/introduce, and "@Implementor introduce yourself": the server's colleague shows who it is.

The first call hires a colleague (a job for the workers: a face and a CV; the roster gains them
when the result is posted) and later calls show the same colleague from the store, with no job at
all. Any member may ask on a server with nobody on the team (that is how a server first meets its
colleague). `new: True` hires another one, who then answers everyone's requests: that takes Manage
Server, unless the server lets everyone hire (`/settings`). `name`, `title` and `seed` choose the new
hire (checked: plain text only). While a hire is under way, another is refused with the reason: two
members asking at once on a fresh server hire one colleague.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from pydantic import ValidationError

from implementor.bot.errors import refuse_message
from implementor.bot.render import NO_PINGS, Rendered, cv_embed, face_file
from implementor.bot.runner import JobRunner
from implementor.contracts.errors import InputError, RateLimited
from implementor.contracts.jobs import IntroduceJob
from implementor.store.database import Colleague, Store

log = logging.getLogger(__name__)
Send = Callable[..., Awaitable[Any]]  # a way to send a message: an interaction's response, a channel
TRIGGER = re.compile(r"\bintroduce\s+yourself\b", re.IGNORECASE)


def introduction(colleague: Colleague) -> Rendered:
    small = colleague.face_px is not None and colleague.face_px < 64
    return cv_embed(colleague.name, colleague.title, colleague.cv, image_url="attachment://face.png", thumbnail=small)


async def show(colleague: Colleague, first: Send, rest: Send) -> None:
    """A colleague on the roster introduces itself again, from the store (no job): `first` sends the
    introduction, `rest` what it could not hold."""
    rendered = introduction(colleague)
    await first(embeds=rendered.embeds, file=face_file(png=colleague.png), allowed_mentions=NO_PINGS)
    for extra in rendered.follow_ups:
        await rest(extra, allowed_mentions=NO_PINGS)


def hire_job(name: str | None, title: str | None, seed: int | None) -> IntroduceJob:
    """The job for a new hire; Discord's own checks can be bypassed, so check again here."""
    try:
        return IntroduceJob(name=name, title=title, seed=seed)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(p) for p in problem["loc"]) or "value"
        raise InputError(f"{field}: {problem['msg'].removeprefix('Value error, ')}") from None


async def may_hire(store: Store, guild_id: int, permissions: discord.Permissions) -> None:
    """Hiring a colleague to replace the current one takes Manage Server, unless the server lets everyone hire."""
    if permissions.manage_guild or (await store.servers.get(guild_id)).who_may_hire == "everyone":
        return
    raise InputError("Hiring a new colleague takes the Manage Server permission here (an admin can let everyone "
                     "hire with /settings).")


class Introduce(commands.Cog):
    def __init__(self, *, store: Store, runner: JobRunner, me: Callable[[], discord.abc.Snowflake | None]) -> None:
        self.store, self.runner = store, runner
        self.me = me  # the bot's own user, None until it has logged in: a message must mention it

    @app_commands.command(name="introduce")
    @app_commands.describe(new="Hire another colleague instead of meeting the current one.",
                           name="A new hire's name (default: one is chosen).",
                           title="A new hire's job title (default: one is chosen).",
                           seed="A new hire's face and CV seed, for the same colleague again (default: random).")
    @app_commands.guild_only()
    async def introduce(self, interaction: discord.Interaction, new: bool = False,
                        name: app_commands.Range[str, 1, 80] | None = None,
                        title: app_commands.Range[str, 1, 80] | None = None,
                        seed: app_commands.Range[int, 0, 2**31 - 1] | None = None) -> None:
        """The server's colleague introduces itself: a face and a CV."""
        if interaction.guild_id is None:
            raise InputError("I introduce myself in servers, not in direct messages.")
        current = await self.store.colleague(interaction.guild_id)
        choosing = name is not None or title is not None or seed is not None
        if current is not None and not new and not choosing:
            await show(current, interaction.response.send_message, interaction.followup.send)
            return
        job = hire_job(name, title, seed)
        if current is not None:  # replacing the colleague who answers everyone
            await may_hire(self.store, interaction.guild_id, interaction.permissions)
        await self.runner.accept(job, interaction.user.id, interaction.guild_id, interaction.channel_id or 0,
                                 interaction=interaction, one_hire=True)

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
                await show(current, message.channel.send, message.channel.send)
                return
            await self.runner.accept(IntroduceJob(), message.author.id, message.guild.id, message.channel.id,
                                     reply_to=message, one_hire=True)
        except (RateLimited, InputError) as exc:
            await refuse_message(message, str(exc))  # privately, as a slash command's refusal is
