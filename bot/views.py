"""Buttons on results and status messages, persistent across bot restarts.

Every button's state lives in its custom id (`implementor:<action>:<job id>[:<score>]`), and each
class is registered as a dynamic item at start-up, so a button on a message posted last week still
works after a restart. The job it refers to is looked up in the store.

A button is given what it acts on and never looks for it (not on the client, not by a cog's name):
`Buttons(actions)` binds the five classes to one bot's `ButtonActions` (its store, the runner's
cancel, the Project cog's regenerate). The bot registers those bound classes, and its messages carry
instances of them and of nothing else: discord.py registers the class of every dynamic item a sent
message carries, so an unbound class on a message would take the bound one's place.
"""

from __future__ import annotations

import re
import types
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar, cast

import discord

from bot.errors import friendly
from bot.render import NO_PINGS, why_message
from bot.store import Store
from contracts.errors import InputError

JOB = r"(?P<job>[A-Za-z0-9_-]{8,64})"
B = TypeVar("B", bound="discord.ui.DynamicItem[Any]")
ResultView = Callable[[str, str], discord.ui.View]  # (job id, kind) -> the buttons under a posted result


@dataclass(frozen=True)
class ButtonActions:
    """What the buttons act on, given by whoever wires the bot."""

    store: Store
    cancel: Callable[[str], Awaitable[bool]]  # withdraw a job that has not started: True if there was one
    regenerate: Callable[[discord.Interaction, str], Awaitable[None]]  # ask a project request again (answers)


async def _job(store: Store, job_id: str) -> Any:
    record = await store.jobs.get(job_id)
    if record is None or record.result is None:
        raise InputError("I no longer have that job on record.")
    return record


class CancelButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"implementor:cancel:{JOB}"):
    actions: ClassVar[ButtonActions]  # set on the subclass that `Buttons` binds

    def __init__(self, job_id: str) -> None:
        super().__init__(discord.ui.Button(label="Cancel", style=discord.ButtonStyle.secondary,
                                           custom_id=f"implementor:cancel:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> CancelButton:
        return cls(match["job"])

    @friendly
    async def callback(self, interaction: discord.Interaction) -> None:
        record = await self.actions.store.jobs.get(self.job_id)
        if record is None or record.user_id != interaction.user.id:
            raise InputError("Only the member who asked can cancel this.")
        cancelled = await self.actions.cancel(self.job_id)
        text = ("Cancelled: it will not run." if cancelled
                else "Too late to cancel: it is already running, or over.")
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


class WhyButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"implementor:why:{JOB}"):
    actions: ClassVar[ButtonActions]  # set on the subclass that `Buttons` binds

    def __init__(self, job_id: str) -> None:
        super().__init__(discord.ui.Button(label="Why this reply?", style=discord.ButtonStyle.secondary,
                                           custom_id=f"implementor:why:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> WhyButton:
        return cls(match["job"])

    @friendly
    async def callback(self, interaction: discord.Interaction) -> None:
        record = await _job(self.actions.store, self.job_id)
        text = why_message(record.result.get("candidates", []))
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


class RateButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"implementor:rate:{JOB}:(?P<score>[1-5])"):
    actions: ClassVar[ButtonActions]  # set on the subclass that `Buttons` binds

    def __init__(self, job_id: str, score: int) -> None:
        emoji, style = ("👍", discord.ButtonStyle.success) if score >= 4 else ("👎", discord.ButtonStyle.danger)
        super().__init__(discord.ui.Button(emoji=emoji, style=style, custom_id=f"implementor:rate:{job_id}:{score}"))
        self.job_id, self.score = job_id, score

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> RateButton:
        return cls(match["job"], int(match["score"]))

    @friendly
    async def callback(self, interaction: discord.Interaction) -> None:
        record = await _job(self.actions.store, self.job_id)
        # Introductions recorded before the result's `persona` was renamed `profile` still carry a CV.
        profile = record.result.get("profile") or record.result.get("persona") or {}
        reply = record.result.get("reply") or profile.get("cv", "")
        request = record.request or "introduce yourself"
        # The job's own server, not the interaction's: the result was posted there, so its rating belongs there.
        await self.actions.store.rate(self.job_id, interaction.user.id, request, reply, self.score,
                                      guild_id=record.guild_id)
        await interaction.response.send_message("Thanks, noted.", ephemeral=True, allowed_mentions=NO_PINGS)


class DeleteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"implementor:delete:{JOB}"):
    actions: ClassVar[ButtonActions]  # set on the subclass that `Buttons` binds

    def __init__(self, job_id: str) -> None:
        super().__init__(discord.ui.Button(label="Delete", style=discord.ButtonStyle.secondary,
                                           custom_id=f"implementor:delete:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> DeleteButton:
        return cls(match["job"])

    @friendly
    async def callback(self, interaction: discord.Interaction) -> None:
        record = await self.actions.store.jobs.get(self.job_id)
        if not may_delete(interaction, record.user_id if record else None):
            raise InputError("Only the member who asked, or someone who can manage messages, can delete this.")
        await interaction.response.defer(ephemeral=True)
        if interaction.message is not None:
            await interaction.message.delete()
        await self.actions.store.jobs.delete(self.job_id)


class RegenerateButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"implementor:regen:{JOB}"):
    actions: ClassVar[ButtonActions]  # set on the subclass that `Buttons` binds

    def __init__(self, job_id: str) -> None:
        super().__init__(discord.ui.Button(label="Regenerate", emoji="🔄", style=discord.ButtonStyle.primary,
                                           custom_id=f"implementor:regen:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any,
                             match: re.Match[str]) -> RegenerateButton:
        return cls(match["job"])

    @friendly
    async def callback(self, interaction: discord.Interaction) -> None:
        record = await _job(self.actions.store, self.job_id)
        if record.kind != "project" or not record.request:
            raise InputError("Only project replies can be regenerated.")
        await self.actions.regenerate(interaction, record.request)  # answers, or refuses privately


def may_delete(interaction: discord.Interaction, requester_id: int | None) -> bool:
    """The member who asked, or anyone allowed to manage messages in that channel."""
    if requester_id is not None and interaction.user.id == requester_id:
        return True
    return bool(interaction.permissions.manage_messages)


def bind(cls: type[B], actions: ButtonActions) -> type[B]:
    """A subclass of a button class that acts on `actions` (a DynamicItem subclass names its template)."""

    def body(namespace: dict[str, Any]) -> None:
        namespace.update(actions=actions, __module__=cls.__module__, __qualname__=cls.__qualname__)

    template = {"template": cls.__discord_ui_compiled_template__}
    return cast("type[B]", types.new_class(cls.__name__, (cls,), template, body))


class Buttons:
    """One bot's buttons: the classes bound to its actions, to register, and the views that carry them."""

    def __init__(self, actions: ButtonActions) -> None:
        self.actions = actions
        self.cancel = bind(CancelButton, actions)
        self.why = bind(WhyButton, actions)
        self.rate = bind(RateButton, actions)
        self.delete = bind(DeleteButton, actions)
        self.regenerate = bind(RegenerateButton, actions)

    @property
    def dynamic_items(self) -> tuple[type[discord.ui.DynamicItem[Any]], ...]:
        """The classes for `Client.add_dynamic_items`: cancel, why, rate, delete, regenerate."""
        return self.cancel, self.why, self.rate, self.delete, self.regenerate

    def status_view(self, job_id: str) -> discord.ui.View:
        """The buttons on a job's status message while it waits or runs."""
        view = discord.ui.View(timeout=None)
        view.add_item(self.cancel(job_id))
        return view

    def result_view(self, job_id: str, kind: str) -> discord.ui.View:
        """The buttons under a posted result: why and regenerate for projects, then rate and delete."""
        view = discord.ui.View(timeout=None)
        if kind == "project":
            view.add_item(self.why(job_id))
            view.add_item(self.regenerate(job_id))
        view.add_item(self.rate(job_id, 5))
        view.add_item(self.rate(job_id, 1))
        view.add_item(self.delete(job_id))
        return view
