"""/settings: a server's own settings, shown to anyone who can manage the server, and changed by them.

    /settings                                     what this server has set, and the defaults for the rest
    /settings cooldown:30 hire:everyone explore:off  change any (the others stay as they are)

The settings live in the store (`implementor.store.servers`); what a server never set falls back to
the bot's settings (`IMPLEMENTOR_USER_COOLDOWN_S`; hiring: Manage Server) and the workers'
(`IMPLEMENTOR_EXPLORE`: the share of replies that post another realistic draft, so that ratings
teach the quality head about more than its favourites). `explore:off` makes this server's replies
always the top draft; `on` gives them the workers' share again.
"""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from implementor.bot.render import NO_PINGS
from implementor.contracts.errors import InputError
from implementor.store.database import Store
from implementor.store.servers import ServerSettings

MAX_COOLDOWN_S = 3600


def describe(own: ServerSettings, default_cooldown_s: int) -> str:
    cooldown = (f"{own.cooldown_s} s" if own.cooldown_s is not None
                else f"{default_cooldown_s} s (the bot's default)")
    hire = {"managers": "members with Manage Server", "everyone": "every member"}[own.who_may_hire]
    explore = {None: "the workers' setting", True: "on (the workers' share)", False: "off: always the top draft"}
    return (f"**Cooldown** between two requests of a member: {cooldown}\n"
            f"**Who may hire** a colleague (`/introduce new`): {hire}\n"
            f"**Exploring** (a reply now and then is another realistic draft): {explore[own.explore]}")


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Settings(commands.Cog):
    def __init__(self, *, store: Store, default_cooldown_s: int) -> None:
        self.store, self.default_cooldown_s = store, default_cooldown_s

    @app_commands.command(name="settings")
    @app_commands.describe(cooldown="Seconds a member waits between two requests (0 to 3600).",
                           hire="Who may hire a colleague.",
                           explore="Whether a reply is now and then another realistic draft than the top one.")
    async def settings(self, interaction: discord.Interaction,
                       cooldown: app_commands.Range[int, 0, MAX_COOLDOWN_S] | None = None,
                       hire: Literal["managers", "everyone"] | None = None,
                       explore: Literal["on", "off"] | None = None) -> None:
        """Show or change this server's cooldown, who may hire, and exploring (Manage Server)."""
        if not interaction.permissions.manage_guild:  # Discord's default can be changed by admins
            raise InputError("Server settings take the Manage Server permission.")
        if cooldown is not None and not 0 <= cooldown <= MAX_COOLDOWN_S:  # clients can lie
            raise InputError(f"The cooldown must be 0 to {MAX_COOLDOWN_S} seconds.")
        if hire is not None and hire not in ("managers", "everyone"):
            raise InputError("Who may hire: managers or everyone.")
        if explore is not None and explore not in ("on", "off"):
            raise InputError("Exploring: on or off.")
        guild = interaction.guild_id or 0
        changes: dict[str, int | str | bool] = {k: v for k, v in (("cooldown_s", cooldown), ("hire", hire))
                                                if v is not None}
        if explore is not None:
            changes["explore"] = explore == "on"
        own = await self.store.servers.change(guild, interaction.user.id, **changes) if changes \
            else await self.store.servers.get(guild)
        heading = "Saved. " if changes else ""
        await interaction.response.send_message(f"{heading}This server's settings:\n"
                                                f"{describe(own, self.default_cooldown_s)}", ephemeral=True,
                                                allowed_mentions=NO_PINGS)
