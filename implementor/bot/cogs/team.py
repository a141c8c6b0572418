"""/team: everyone a server has hired, from the roster in the store (no job, no worker)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from implementor.bot.render import NO_PINGS
from implementor.store.database import Store


class Team(commands.Cog):
    def __init__(self, *, store: Store) -> None:
        self.store = store

    @app_commands.command(name="team")
    @app_commands.guild_only()
    async def team(self, interaction: discord.Interaction) -> None:
        """Everyone this server has hired, newest last."""
        roster = await self.store.roster(interaction.guild_id or 0)
        if not roster:
            await interaction.response.send_message("Nobody yet: try /introduce.", ephemeral=True,
                                                    allowed_mentions=NO_PINGS)
            return
        lines = [f"{c.position}. **{discord.utils.escape_markdown(c.name)}**, {discord.utils.escape_markdown(c.title)}"
                 for c in roster]
        embed = discord.Embed(title="The team", description="\n".join(lines)[:4096])
        await interaction.response.send_message(embed=embed, allowed_mentions=NO_PINGS)
