"""/learn: a server's consent to teach its colleague, and what it taught.

    /learn enable [#channel]   an admin (Manage Server) lets the colleague learn from a channel
    /learn disable [#channel]  and stops it; nothing more is read from there
    /learn status              per channel: enabled by whom, last harvest and its counts; the live models
    /learn optout              any member: never read again; ratings deleted now, harvested messages by the learner
    /learn optin               and back in, from now on

Enabling and disabling are announced in the channel they are about (`#other`, not the channel the
command was typed in), so that the members who are read know; the admin's confirmation is private.
If the announcement cannot be posted there, nothing changes: nobody is read without being told.
Every change is written down with who made it and when (`implementor.store.consent`). The harvest itself
runs in the learner (`implementor.harvest`), which the bot asks for right after a channel is enabled. So
does the removal of an opted-out member's harvested messages (`implementor.forget`, asked for at once,
and done by every learning cycle too): the harvested sets live with the learner, not beside the bot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from implementor.bot.render import NO_PINGS
from implementor.contracts.errors import InputError
from implementor.store import versions
from implementor.store.consent import Channel, LearningStore
from implementor.store.database import Store

log = logging.getLogger(__name__)


def _where(interaction: discord.Interaction, channel: discord.abc.GuildChannel | None) -> tuple[int, int]:
    if interaction.guild_id is None:
        raise InputError("Learning is chosen per server channel; use this command in a server.")
    return interaction.guild_id, channel.id if channel is not None else interaction.channel_id or 0


def _admin(interaction: discord.Interaction) -> None:
    if not interaction.permissions.manage_guild:
        raise InputError("Only members with the Manage Server permission can choose where I learn.")


ChannelById = Callable[[int], Any]  # a channel id -> something to `send` to (Client.get_partial_messageable)
Soon = Callable[[], Awaitable[None]]  # asks the learner for a task now (raises if the broker is away)


class Learn(commands.GroupCog, group_name="learn"):
    def __init__(self, *, store: Store, learning: LearningStore, models_dir: Path | None, channel: ChannelById,
                 harvest_soon: Soon | None = None, forget_soon: Soon | None = None) -> None:
        super().__init__()
        self.store, self.learning, self.models_dir = store, learning, models_dir
        self.channel, self.harvest_soon, self.forget_soon = channel, harvest_soon, forget_soon

    async def announce(self, channel_id: int, text: str) -> None:
        """Tell a channel's members, in that channel; a refusal is the admin's to fix, so it says how."""
        try:
            await self.channel(channel_id).send(text, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.info("could not announce in channel %s (%s)", channel_id, exc)
            raise InputError(f"I cannot post in <#{channel_id}>, so I could not tell its members; give me Send "
                             "Messages there and try again. Nothing was changed.") from None

    @app_commands.command(name="enable")
    @app_commands.describe(channel="The channel to learn from (this one if left empty)")
    async def enable(self, interaction: discord.Interaction, channel: discord.TextChannel | None = None) -> None:
        """Let the colleague learn from a channel's replies and reactions (Manage Server)."""
        _admin(interaction)
        guild_id, channel_id = _where(interaction, channel)
        await self.announce(channel_id, f"📚 <@{interaction.user.id}> let me learn from this channel: from now on "
                            "its replies and reactions teach me which answers help. Anyone can say no with "
                            "`/learn optout`: what I kept of theirs is deleted and never read again.")
        await self.learning.set_channel(guild_id, channel_id, True, by=interaction.user.id)
        await interaction.response.send_message(f"Done: I learn from <#{channel_id}>, and told its members there.",
                                                ephemeral=True, allowed_mentions=NO_PINGS)
        if self.harvest_soon is not None:
            try:
                await self.harvest_soon()
            except Exception as exc:  # noqa: BLE001 - the beat runs it later anyway
                log.warning("could not queue a harvest (%s); the next scheduled one will read the channel", exc)

    @app_commands.command(name="disable")
    @app_commands.describe(channel="The channel to stop learning from (this one if left empty)")
    async def disable(self, interaction: discord.Interaction, channel: discord.TextChannel | None = None) -> None:
        """Stop learning from a channel (Manage Server)."""
        _admin(interaction)
        guild_id, channel_id = _where(interaction, channel)
        await self.announce(channel_id, "I no longer learn from this channel; nothing more is read here.")
        await self.learning.set_channel(guild_id, channel_id, False, by=interaction.user.id)
        await interaction.response.send_message(f"Done: I no longer learn from <#{channel_id}>, and said so there.",
                                                ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="optout")
    async def optout(self, interaction: discord.Interaction) -> None:
        """Keep your messages and ratings out of my training, and delete what I kept."""
        member = interaction.user.id
        await self.learning.opt_out(member)  # recorded first: the learner removes what it finds recorded
        ratings = await self.store.forget_feedback(member)
        when = "now" if await self._forget_soon() else "at the next learning cycle"
        await interaction.response.send_message(
            f"Done: you are opted out. I deleted your {ratings} ratings and draft choices, your harvested messages "
            f"are being removed from the learning sets ({when}), and I will not read your messages to learn again. "
            "Models trained before today keep what they learned; the next retraining leaves you out. "
            "`/learn optin` undoes this.", ephemeral=True, allowed_mentions=NO_PINGS)

    async def _forget_soon(self) -> bool:
        """Ask the learner to remove opted-out rows now; False if it could not be asked (the cycle does it)."""
        if self.forget_soon is None:
            return False
        try:
            await self.forget_soon()
        except Exception as exc:  # noqa: BLE001 - the opt-out stands; the removal only waits for the cycle
            log.warning("could not ask the learner to remove opted-out rows (%s); the next cycle will", exc)
            return False
        return True

    @app_commands.command(name="optin")
    async def optin(self, interaction: discord.Interaction) -> None:
        """Let your messages teach me again (from now on)."""
        await self.learning.opt_in(interaction.user.id)
        await interaction.response.send_message("Thank you: your messages in enabled channels teach me again.",
                                                ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="status")
    async def status(self, interaction: discord.Interaction) -> None:
        """Where I learn, what I harvested and when, and which model versions are live."""
        guild_id, _ = _where(interaction, None)
        channels = await self.learning.channels(guild_id)
        lines = [channel_line(c) for c in channels] or ["I learn from no channel here (`/learn enable`)."]
        lines += await asyncio.to_thread(model_lines, self.models_dir)
        await interaction.response.send_message("\n".join(lines)[:2000], ephemeral=True, allowed_mentions=NO_PINGS)


def channel_line(channel: Channel) -> str:
    state = "learning" if channel.enabled else "not learning"
    line = f"<#{channel.channel_id}>: {state} (set by <@{channel.changed_by}> <t:{int(channel.changed_at)}:R>)"
    if channel.harvested_at is None:
        return line + "; not harvested yet."
    counts = channel.counts or {}
    dropped = sum(v for k, v in counts.items() if k.startswith("dropped"))
    return (line + f"; last harvest <t:{int(channel.harvested_at)}:R>: read {counts.get('read', 0)}, kept "
            f"{counts.get('kept: pairs', 0)} pairs and {counts.get('kept: texts', 0)} texts, dropped {dropped}.")


def model_lines(models_dir: Path | None) -> list[str]:
    if models_dir is None:
        return ["Models: the configured ones (no versions directory, IMPLEMENTOR_MODELS_DIR, is set)."]
    lines = []
    for kind in versions.KINDS:
        live = [v for v in versions.describe(models_dir, kind) if v["live"]]
        if live:
            lines.append(f"Live {kind} head: {live[0]['version']} ({live[0]['metrics']}).")
        else:
            lines.append(f"Live {kind} head: the configured one (no version promoted yet).")
    return lines
