"""/help: what the colleague does, its commands, what it keeps and for how long, consent and opt-out,
and the models it runs with their measured figures. Private, like every answer about oneself.

The command list is read from the bot's own cogs (`cogs`, given by whoever wires the bot), so a new
command appears here without anyone remembering to add it; the figures come from the model cards
(`implementor.store.cards`), so they are the ones measured, not ones written down here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import discord
from discord import app_commands
from discord.ext import commands

from implementor.bot.render import COLOUR, FIELD_LIMIT, NO_PINGS, split_text
from implementor.config.settings import Settings
from implementor.store import cards

WHAT = ("I am this server's synthetic colleague: a face and a CV, made up, not anyone's. Bring me a project "
        "and I write several drafts of a reply, keep those my realism model believes a person wrote, and post "
        "the one my quality model expects you to rate highest; **Why this reply?** under it shows the drafts. "
        "Heavy work runs on workers, so you may wait in a queue; the status message says where you stand.")
CONSENT = ("Nothing is read to learn from until someone with Manage Server runs `/learn enable` for a channel, and "
           "that channel is told. `/learn optout` deletes what I kept of yours (your ratings and ratings of replies "
           "to you at once, harvested messages by the learner before it trains again) and I never read your "
           "messages to learn again; models trained before keep what they learned, the next retraining leaves "
           "you out. `/learn optin` undoes it.")


def stored(settings: Settings) -> str:
    return "\n".join([
        "• Your requests and my replies, with who asked and where: in the bot's store, until an operator "
        f"removes them (the queue forgets them after {settings.result_ttl_s / 3600:g} h). With each reply, its "
        "drafts and their scores (for **Why this reply?**); **Delete** under a reply removes them too.",
        "• Ratings (👍/👎) with who gave them, per server: moderators see this server's only (`/ratings`).",
        "• The colleagues this server hired: name, face and CV.",
        "• Only in channels enabled with `/learn enable`: members' messages and reactions, with mentions, "
        "e-mail addresses, phone numbers and links removed, to retrain my judges; kept until you opt out.",
    ])


def model_lines(served: Sequence[cards.ModelCard], encoder: str) -> str:
    lines = []
    for card in served:
        on = f", on {encoder}" if card.role in ("realism", "quality") else ""
        figures = f"Measured: {'; '.join(card.figures)}." if card.figures else "Its card records no figures."
        lines.append(f"• **{card.role}** ({card.source}{on}): {card.what}. {figures}")
    return "\n".join(lines)


def command_lines(cogs: Sequence[commands.Cog]) -> str:
    found = [c for cog in cogs for c in cog.walk_app_commands() if isinstance(c, app_commands.Command)]
    lines = [f"`/{c.qualified_name}`: {c.description}" for c in found]
    return "\n".join([*lines, "`@Implementor introduce yourself`: the same as `/introduce`, from a message"])


def help_embed(settings: Settings, cogs: Sequence[commands.Cog], served: Sequence[cards.ModelCard]) -> discord.Embed:
    embed = discord.Embed(title="What I do, what I keep, how to say no", description=WHAT, colour=COLOUR)
    sections = [("Commands", command_lines(cogs)), ("What I keep, and for how long", stored(settings)),
                ("Consent and opting out", CONSENT), ("My models, as measured", model_lines(served, settings.encoder))]
    for name, text in sections:
        for i, chunk in enumerate(split_text(text, FIELD_LIMIT)):
            embed.add_field(name=name if i == 0 else f"{name} (continued)", value=chunk, inline=False)
    return embed


class Help(commands.Cog):
    def __init__(self, *, settings: Settings, cogs: Callable[[], Sequence[commands.Cog]]) -> None:
        self.settings, self.cogs = settings, cogs

    @app_commands.command(name="help")
    async def help(self, interaction: discord.Interaction) -> None:
        """What I can do, what I keep about you and for how long, how to opt out, and my models."""
        served = await asyncio.to_thread(cards.served, self.settings)  # small files, but off the event loop
        await interaction.response.send_message(embed=help_embed(self.settings, self.cogs(), served), ephemeral=True,
                                                allowed_mentions=NO_PINGS)
