"""Turning our errors into private, friendly replies, for slash commands, buttons and messages alike.

A slash command or a button is answered with an ephemeral message. A message ("@Implementor
introduce yourself") cannot be: its refusal goes to the member as a DM, which only they read. Where
their DMs are closed (Discord answers 50007), a reply in the channel deletes itself after
`PUBLIC_REFUSAL_S` seconds: long enough to read, and a refusal does not stay in the channel.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from implementor.bot.render import NO_PINGS
from implementor.contracts.errors import ImplementorError, InputError, RateLimited

log = logging.getLogger(__name__)
PUBLIC_REFUSAL_S = 8.0
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def friendly_message(error: BaseException) -> str | None:
    """The message for an error a member caused or can act on; None for our own bugs."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, RateLimited):
        return str(error)
    if isinstance(error, InputError):
        return str(error)
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use that here."
    if isinstance(error, app_commands.TransformerError):
        return "That value does not fit; check the command's description."
    if isinstance(error, ImplementorError):
        return "Something on my side is not set up right; an admin has been told in the log."
    return None


async def reply_privately(interaction: discord.Interaction, error: BaseException) -> None:
    message = friendly_message(error)
    if message is None:
        log.error("unexpected error in an interaction", exc_info=error)
        message = "Sorry, that did not work. Please try again in a moment."
    elif isinstance(error, ImplementorError) and not isinstance(error, InputError):
        log.error("configuration error in an interaction: %s", error)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(message, ephemeral=True, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("could not tell the member about an error: %s", message)


class ImplementorTree(app_commands.CommandTree[Any]):
    """One error handler for every slash command (Red's RedTree habit)."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await reply_privately(interaction, error)


def friendly(callback: F) -> F:
    """For button callbacks: our errors become private replies rather than log noise."""

    @functools.wraps(callback)
    async def wrapper(self: Any, interaction: discord.Interaction, *args: Any, **kwargs: Any) -> Any:
        try:
            return await callback(self, interaction, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every error gets an answer; unexpected ones are logged
            await reply_privately(interaction, exc)
            return None

    return wrapper  # type: ignore[return-value]


async def refuse_message(message: discord.Message, text: str) -> None:
    """Tell the member who sent `message` why it was refused: by DM, or briefly in the channel."""
    try:
        await message.author.send(text, allowed_mentions=NO_PINGS)
        return
    except discord.Forbidden:  # DMs closed, or the member blocks the bot
        pass
    except discord.HTTPException as exc:
        log.info("could not DM a refusal to member %s (%s); replying briefly instead", message.author.id, exc)
    try:
        await message.reply(f"{text} (I could not DM you; this note disappears in {PUBLIC_REFUSAL_S:.0f} s.)",
                            delete_after=PUBLIC_REFUSAL_S, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("could not tell member %s about a refusal: %s", message.author.id, text)
