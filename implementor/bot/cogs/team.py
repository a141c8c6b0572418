"""/team: everyone a server has hired, from the roster in the store (no job, no worker), and who answers.

    /team show           the roster, a page at a time (buttons turn the pages), who answers marked
    /team switch NAME    that colleague answers the server's requests from now on (Manage Server)
    /team retire NAME    that colleague leaves the team: answers nothing, stays on the roster (Manage Server)

A name is matched without regard to case; two colleagues of one name are told apart by their number
on the roster ("2" or "#2").
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from implementor.bot.render import NO_PINGS
from implementor.contracts.errors import InputError
from implementor.store.database import Colleague, Store

PAGE = 10  # colleagues on a page of /team show
PAGE_TIMEOUT_S = 600.0  # the page buttons work this long after the roster was shown


def roster_page(team: list[Colleague], current: Colleague | None, page: int) -> discord.Embed:
    """One page of the roster: number, name and title, who answers and who retired."""
    pages = max(1, -(-len(team) // PAGE))
    page = min(max(page, 0), pages - 1)
    lines = []
    for c in team[page * PAGE : (page + 1) * PAGE]:
        mark = " · answers requests" if current is not None and c.id == current.id else ""
        mark += " · retired" if c.retired else ""
        lines.append(f"{c.position}. **{discord.utils.escape_markdown(c.name)}**, "
                     f"{discord.utils.escape_markdown(c.title)}{mark}")
    embed = discord.Embed(title="The team", description="\n".join(lines))
    embed.set_footer(text=f"Page {page + 1} of {pages} · {len(team)} hired")
    return embed


class RosterPages(discord.ui.View):
    """Previous / Next under a roster, for the member who asked for it (a page is read from the store again)."""

    def __init__(self, store: Store, guild_id: int, viewer: int, pages: int) -> None:
        super().__init__(timeout=PAGE_TIMEOUT_S)
        self.store, self.guild_id, self.viewer, self.pages, self.page = store, guild_id, viewer, pages, 0
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.viewer:
            await interaction.response.send_message("Ask /team show for pages of your own.", ephemeral=True,
                                                    allowed_mentions=NO_PINGS)
            return False
        return True

    async def _turn(self, interaction: discord.Interaction, by: int) -> None:
        team = await self.store.roster(self.guild_id)
        self.pages = max(1, -(-len(team) // PAGE))
        self.page = min(max(self.page + by, 0), self.pages - 1)
        self._sync()
        embed = roster_page(team, await self.store.colleague(self.guild_id), self.page)
        await interaction.response.edit_message(embed=embed, view=self, allowed_mentions=NO_PINGS)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button[RosterPages]) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button[RosterPages]) -> None:
        await self._turn(interaction, 1)


def find(team: list[Colleague], name: str) -> Colleague:
    """The colleague a member named: by number ("2", "#2") or by name, without regard to case."""
    wanted = name.strip().removeprefix("#")
    if wanted.isdigit():
        found = [c for c in team if c.position == int(wanted)]
    else:
        found = [c for c in team if c.name.casefold() == wanted.casefold()]
    if not found:
        raise InputError(f"Nobody called {discord.utils.escape_markdown(name)[:80]} is on the roster; /team show "
                         f"lists everyone.")
    if len(found) > 1:
        numbers = ", ".join(f"#{c.position}" for c in found)
        raise InputError(f"{len(found)} colleagues have that name ({numbers}): give the number instead.")
    return found[0]


@app_commands.guild_only()
class Team(commands.GroupCog, group_name="team"):
    """Everyone the server has hired, and who answers its requests."""

    def __init__(self, *, store: Store) -> None:
        self.store = store

    @app_commands.command(name="show")
    async def show(self, interaction: discord.Interaction) -> None:
        """Everyone this server has hired, a page at a time, and who answers requests."""
        guild = interaction.guild_id or 0
        team = await self.store.roster(guild)
        if not team:
            await interaction.response.send_message("Nobody yet: try /introduce.", ephemeral=True,
                                                    allowed_mentions=NO_PINGS)
            return
        pages = max(1, -(-len(team) // PAGE))
        embed = roster_page(team, await self.store.colleague(guild), 0)
        view = RosterPages(self.store, guild, interaction.user.id, pages) if pages > 1 else discord.utils.MISSING
        await interaction.response.send_message(embed=embed, view=view, allowed_mentions=NO_PINGS)

    @app_commands.command(name="switch")
    @app_commands.describe(name="The colleague's name, or their number on the roster.")
    @app_commands.default_permissions(manage_guild=True)
    async def switch(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 80]) -> None:
        """Choose who answers this server's requests (a retired colleague comes back)."""
        chosen = find(await self.store.roster(self._managed(interaction)), name)
        await self.store.switch(interaction.guild_id or 0, chosen.id, interaction.user.id)
        await interaction.response.send_message(
            f"{discord.utils.escape_markdown(chosen.name)} answers this server's requests from now on.",
            allowed_mentions=NO_PINGS)

    @app_commands.command(name="retire")
    @app_commands.describe(name="The colleague's name, or their number on the roster.")
    @app_commands.default_permissions(manage_guild=True)
    async def retire(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 80]) -> None:
        """Take a colleague off the team: they answer nothing more, and stay on the roster."""
        chosen = find(await self.store.roster(self._managed(interaction)), name)
        now = await self.store.retire(interaction.guild_id or 0, chosen.id, interaction.user.id)
        await interaction.response.send_message(retired_text(chosen, now), allowed_mentions=NO_PINGS)

    @staticmethod
    def _managed(interaction: discord.Interaction) -> int:
        """The server, if the member may manage it (Discord's default permission can be changed by admins)."""
        if not interaction.permissions.manage_guild:
            raise InputError("Changing the team takes the Manage Server permission.")
        return interaction.guild_id or 0


def retired_text(retired: Colleague, now: Colleague | None) -> str:
    who = discord.utils.escape_markdown(retired.name)
    if now is None:
        return f"{who} has retired. Nobody is on the team now: /introduce hires a colleague."
    return f"{who} has retired; {discord.utils.escape_markdown(now.name)} answers requests now."
