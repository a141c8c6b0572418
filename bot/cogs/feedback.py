"""Feedback: /ratings, a server's summary of what members thought (the rating buttons fill the store)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.render import NO_PINGS
from bot.store import Store


class Feedback(commands.Cog):
    def __init__(self, *, store: Store) -> None:
        self.store = store

    @app_commands.command(name="ratings")
    @app_commands.default_permissions(manage_messages=True)
    async def ratings(self, interaction: discord.Interaction) -> None:
        """How members rated the colleague's work (👍 counts as 5, 👎 as 1)."""
        rows = await self.store.feedback()
        if not rows:
            await interaction.response.send_message("No ratings yet.", ephemeral=True, allowed_mentions=NO_PINGS)
            return
        up = sum(r["rating"] >= 4 for r in rows)
        mean = sum(r["rating"] for r in rows) / len(rows)
        text = f"{len(rows)} ratings: {up} 👍, {len(rows) - up} 👎 (mean {mean:.1f} of 5)."
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
