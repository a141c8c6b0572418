"""Feedback: /ratings, a server's summary of what its members thought (the rating buttons fill the store).

A server sees its own ratings only, and there is no summary in a DM: whoever could read it there would
read how members of servers they are not in rated their replies.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from implementor.bot.render import NO_PINGS
from implementor.contracts.errors import InputError
from implementor.store.database import Store


class Feedback(commands.Cog):
    def __init__(self, *, store: Store) -> None:
        self.store = store

    @app_commands.command(name="ratings")
    @app_commands.default_permissions(manage_messages=True)
    @app_commands.guild_only()
    async def ratings(self, interaction: discord.Interaction) -> None:
        """How members rated the colleague's work (👍 counts as 5, 👎 as 1)."""
        if interaction.guild_id is None:
            raise InputError("Ratings are kept per server; use `/ratings` in a server.")
        rows = await self.store.server_feedback(interaction.guild_id)
        if not rows:
            await interaction.response.send_message("No ratings yet.", ephemeral=True, allowed_mentions=NO_PINGS)
            return
        up = sum(r["rating"] >= 4 for r in rows)
        mean = sum(r["rating"] for r in rows) / len(rows)
        text = f"{len(rows)} ratings: {up} 👍, {len(rows) - up} 👎 (mean {mean:.1f} of 5)."
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
