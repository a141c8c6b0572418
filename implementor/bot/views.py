"""Buttons on results and status messages, persistent across bot restarts.

Every button's state lives in its custom id (`implementor:<action>:<job id>[:<score>]`), and the one
button class is registered as a dynamic item at start-up, so a button on a message posted last week
still works after a restart. The job it refers to is looked up in the store, its result typed as the
book read it (no button reads raw JSON).

An action is data: its name in the custom id, how its button looks, and what a click does (`ACTIONS`:
cancel, why, rate, delete, regenerate, follow up). One class, `ActionButton`, carries any of them. A
project's answer also carries the menu of its drafts (`draft_menu.py`, a dynamic item of its own).

A button is given what it acts on and never looks for it (not on the client, not by a cog's name):
`Buttons(actions)` binds the class to one bot's `ButtonActions` (its store, the runner's cancel, the
Project cog's regenerate). The bot registers that bound class, and its messages carry instances of it
and of nothing else: discord.py registers the class of every dynamic item a sent message carries, so
an unbound class on a message would take the bound one's place.
"""

from __future__ import annotations

import re
import types
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import discord

from implementor.bot.errors import friendly
from implementor.bot.follow_up import FollowUpModal, Submit
from implementor.bot.render import NO_PINGS, why_message
from implementor.contracts.errors import InputError
from implementor.contracts.jobs import ProjectResult, Result
from implementor.store.database import Colleague, Store
from implementor.store.jobbook import JobRecord

JOB = r"(?P<job>[A-Za-z0-9_-]{8,64})"
ResultView = Callable[[str, str], discord.ui.View]  # (job id, kind) -> the buttons under a posted result


@dataclass(frozen=True)
class ButtonActions:
    """What the buttons act on, given by whoever wires the bot."""

    store: Store
    cancel: Callable[[str], Awaitable[bool]]  # withdraw a job that has not started: True if there was one
    regenerate: Callable[[discord.Interaction, JobRecord], Awaitable[None]]  # ask a project job again, in place
    follow_up: Submit  # a member's next turn after a project's answer (the Follow up modal's text)


async def _job(store: Store, job_id: str) -> tuple[JobRecord, Result]:
    """A job with its result (typed by the book), or the member is told it is gone."""
    record = await store.jobs.get(job_id)
    if record is None or record.result is None:
        raise InputError("I no longer have that job on record.")
    return record, record.result


def rated_text(result: Result) -> str:
    """What a rating is a rating of: the reply, or the introduction's CV."""
    if isinstance(result, ProjectResult):
        return result.reply or ""
    return result.profile.cv if result.profile is not None else ""


async def _cancel(actions: ButtonActions, interaction: discord.Interaction, job_id: str, score: int | None) -> None:
    record = await actions.store.jobs.get(job_id)
    if record is None or record.user_id != interaction.user.id:
        raise InputError("Only the member who asked can cancel this.")
    cancelled = await actions.cancel(job_id)
    text = "Cancelled: it will not run." if cancelled else "Too late to cancel: it is already running, or over."
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


async def _why(actions: ButtonActions, interaction: discord.Interaction, job_id: str, score: int | None) -> None:
    _, result = await _job(actions.store, job_id)
    text = why_message(result.candidates)
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


async def _rate(actions: ButtonActions, interaction: discord.Interaction, job_id: str, score: int | None) -> None:
    assert score is not None  # the template requires one
    record, result = await _job(actions.store, job_id)
    request = record.request or "introduce yourself"
    # The job's own server, not the interaction's: the result was posted there, so its rating belongs there.
    await actions.store.rate(job_id, interaction.user.id, request, rated_text(result), score,
                             guild_id=record.guild_id)
    await interaction.response.send_message("Thanks, noted.", ephemeral=True, allowed_mentions=NO_PINGS)


async def _delete(actions: ButtonActions, interaction: discord.Interaction, job_id: str, score: int | None) -> None:
    record = await actions.store.jobs.get(job_id)
    if not may_delete(interaction, record.user_id if record else None):
        raise InputError("Only the member who asked, or someone who can manage messages, can delete this.")
    hired = await actions.store.hired_by(job_id) if record is not None and record.kind == "introduce" else None
    if hired is not None and not hired.retired and interaction.message is not None:
        question = f"Retire {discord.utils.escape_markdown(hired.name)} too, or only delete the introduction?"
        await interaction.response.send_message(question, view=DeleteIntroduction(actions, interaction.message,
                                                                                  job_id, hired),
                                                ephemeral=True, allowed_mentions=NO_PINGS)
        return
    await interaction.response.defer(ephemeral=True)
    await _delete_result(actions, interaction.message, job_id)


async def _delete_result(actions: ButtonActions, message: discord.Message | None, job_id: str) -> None:
    if message is not None:
        await message.delete()
    await actions.store.jobs.delete(job_id)  # the book's move to `deleted` (its drafts go with it)


class DeleteIntroduction(discord.ui.View):
    """The question a Delete on an introduction asks its member (privately): retire the colleague too?"""

    def __init__(self, actions: ButtonActions, message: discord.Message, job_id: str, hired: Colleague) -> None:
        super().__init__(timeout=300)
        self.actions, self.message, self.job_id, self.hired = actions, message, job_id, hired

    async def _done(self, interaction: discord.Interaction, retire: bool) -> None:
        await _delete_result(self.actions, self.message, self.job_id)
        text = "Deleted."
        if retire:
            now = await self.actions.store.retire(self.hired.guild_id, self.hired.id, interaction.user.id)
            text = f"Deleted, and {discord.utils.escape_markdown(self.hired.name)} has retired" + (
                f"; {discord.utils.escape_markdown(now.name)} answers requests now." if now else
                ". Nobody is on the team now: /introduce hires a colleague.")
        self.stop()
        await interaction.response.edit_message(content=text, view=None, allowed_mentions=NO_PINGS)

    @discord.ui.button(label="Delete and retire", style=discord.ButtonStyle.danger)
    async def and_retire(self, interaction: discord.Interaction, _: discord.ui.Button[DeleteIntroduction]) -> None:
        await self._done(interaction, retire=True)

    @discord.ui.button(label="Only delete", style=discord.ButtonStyle.secondary)
    async def only_delete(self, interaction: discord.Interaction, _: discord.ui.Button[DeleteIntroduction]) -> None:
        await self._done(interaction, retire=False)


async def _regenerate(actions: ButtonActions, interaction: discord.Interaction, job_id: str,
                      score: int | None) -> None:
    record, _ = await _job(actions.store, job_id)
    if not may_delete(interaction, record.user_id):
        raise InputError("Only the member who asked, or someone who can manage messages, can regenerate this.")
    if record.kind != "project" or not record.request:
        raise InputError("Only project replies can be regenerated.")
    if await actions.store.jobs.replacing(job_id):
        raise InputError("A new answer is already being written here; it takes this one's place when it is done.")
    await actions.regenerate(interaction, record)  # answers in place, or refuses privately


async def _follow(actions: ButtonActions, interaction: discord.Interaction, job_id: str, score: int | None) -> None:
    """Anyone may carry on a conversation (as anyone may ask /project): the modal asks for their next turn."""
    record, _ = await _job(actions.store, job_id)
    if record.kind != "project":
        raise InputError("Only project answers can be followed up.")
    await interaction.response.send_modal(FollowUpModal(job_id, actions.follow_up))


Click = Callable[[ButtonActions, discord.Interaction, str, int | None], Awaitable[None]]


@dataclass(frozen=True)
class Action:
    """One kind of button: its name in the custom id, its look, and what a click does."""

    name: str
    click: Click
    label: str | None = None
    emoji: str | None = None
    style: discord.ButtonStyle = discord.ButtonStyle.secondary

    def button(self, custom_id: str, score: int | None) -> discord.ui.Button[Any]:
        if score is not None:  # a rating: thumbs up for 4 and 5, down below
            emoji, style = ("👍", discord.ButtonStyle.success) if score >= 4 else ("👎", discord.ButtonStyle.danger)
            return discord.ui.Button(emoji=emoji, style=style, custom_id=custom_id)
        return discord.ui.Button(label=self.label, emoji=self.emoji, style=self.style, custom_id=custom_id)


ACTIONS = {action.name: action for action in (
    Action("cancel", _cancel, label="Cancel"),
    Action("why", _why, label="Why this reply?"),
    Action("rate", _rate),
    Action("delete", _delete, label="Delete"),
    Action("regen", _regenerate, label="Regenerate", emoji="🔄", style=discord.ButtonStyle.primary),
    Action("follow", _follow, label="Follow up", emoji="💬", style=discord.ButtonStyle.primary),
)}
# A rating carries its score, and nothing else does: `(?(rate)...)` asks for one only after "rate".
_OTHERS = "|".join(name for name in ACTIONS if name != "rate")
TEMPLATE = rf"implementor:(?:(?P<rate>rate)|(?P<action>{_OTHERS})):{JOB}(?(rate):(?P<score>[1-5]))"


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    actions: ClassVar[ButtonActions]  # set on the subclass that `Buttons` binds

    def __init__(self, action: str, job_id: str, score: int | None = None) -> None:
        assert (action == "rate") == (score is not None), (action, score)
        custom_id = f"implementor:{action}:{job_id}" + (f":{score}" if score is not None else "")
        super().__init__(ACTIONS[action].button(custom_id, score))
        self.action, self.job_id, self.score = action, job_id, score

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> ActionButton:
        score = match["score"]
        return cls(match["rate"] or match["action"], match["job"], int(score) if score else None)

    @friendly
    async def callback(self, interaction: discord.Interaction) -> None:
        await ACTIONS[self.action].click(self.actions, interaction, self.job_id, self.score)


def may_delete(interaction: discord.Interaction, requester_id: int | None) -> bool:
    """The member who asked, or anyone allowed to manage messages in that channel."""
    if requester_id is not None and interaction.user.id == requester_id:
        return True
    return bool(interaction.permissions.manage_messages)



def bind(actions: ButtonActions) -> type[ActionButton]:
    """A subclass of `ActionButton` that acts on `actions` (a DynamicItem subclass names its template)."""

    def body(namespace: dict[str, Any]) -> None:
        namespace.update(actions=actions, __module__=ActionButton.__module__, __qualname__=ActionButton.__qualname__)

    template = {"template": ActionButton.__discord_ui_compiled_template__}
    return cast("type[ActionButton]", types.new_class(ActionButton.__name__, (ActionButton,), template, body))


class Buttons:
    """One bot's buttons: the class bound to its actions, to register, and the views that carry them."""

    def __init__(self, actions: ButtonActions) -> None:
        self.actions = actions
        self.item = bind(actions)

    @property
    def dynamic_items(self) -> tuple[type[discord.ui.DynamicItem[Any]], ...]:
        """The classes for `Client.add_dynamic_items`: the one bound button class."""
        return (self.item,)

    def cancel(self, job_id: str) -> ActionButton:
        return self.item("cancel", job_id)

    def why(self, job_id: str) -> ActionButton:
        return self.item("why", job_id)

    def rate(self, job_id: str, score: int) -> ActionButton:
        return self.item("rate", job_id, score)

    def delete(self, job_id: str) -> ActionButton:
        return self.item("delete", job_id)

    def regenerate(self, job_id: str) -> ActionButton:
        return self.item("regen", job_id)

    def follow(self, job_id: str) -> ActionButton:
        return self.item("follow", job_id)

    def status_view(self, job_id: str) -> discord.ui.View:
        """The buttons on a job's status message while it waits or runs."""
        view = discord.ui.View(timeout=None)
        view.add_item(self.cancel(job_id))
        return view

    def result_view(self, job_id: str, kind: str) -> discord.ui.View:
        """The buttons under a posted result: follow up, why and regenerate for projects, then rate and delete."""
        view = discord.ui.View(timeout=None)
        if kind == "project":
            view.add_item(self.follow(job_id))
            view.add_item(self.why(job_id))
            view.add_item(self.regenerate(job_id))
        view.add_item(self.rate(job_id, 5))
        view.add_item(self.rate(job_id, 1))
        view.add_item(self.delete(job_id))
        return view
