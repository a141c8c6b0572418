"""The menu of a reply's drafts: the member who asked (or a moderator) shows another draft in place.

An answer carries a select menu of its drafts that passed the realism threshold, the best four by
expected rating (the one shown always among them), each labelled by its first line. Choosing one edits
the same message (the same buttons, the menu now on the new draft); the job book keeps the chosen
draft as the reply (rated and followed up from then on), and the swap is kept as a preference, the
draft that was shown below the one chosen (`store/preferences.py`), which the quality head learns from.
Anyone else is refused privately.

Like the buttons, the menu keeps its state in its custom id (`implementor:pick:<job id>`; a choice's
value is the draft's number in the job's result) and is registered as a dynamic item bound to what it
acts on, so a menu on an answer posted before a restart still works.
"""

from __future__ import annotations

import re
import types
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import discord

from implementor.bot.errors import friendly
from implementor.bot.render import NO_PINGS
from implementor.bot.views import may_delete
from implementor.contracts.errors import InputError
from implementor.contracts.jobs import ProjectResult
from implementor.contracts.scores import CandidateScore, first_line
from implementor.store.database import Store
from implementor.store.jobbook import JobRecord

MENU_DRAFTS = 4  # Midjourney's four variants: enough to choose from, few enough to read
TEMPLATE = r"implementor:pick:(?P<job>[A-Za-z0-9_-]{8,64})"
Show = Callable[[JobRecord, ProjectResult], Awaitable[tuple[list[discord.Embed], discord.ui.View | None]]]


@dataclass(frozen=True)
class MenuActions:
    """What the menu acts on, given by whoever wires the bot."""

    store: Store
    threshold: float  # the realism threshold: a draft below it is not offered
    show: Show  # an answer as it is posted (its embeds and its buttons), for a result with another draft shown


def choices(result: ProjectResult, threshold: float) -> list[tuple[int, CandidateScore]]:
    """The drafts offered, with their numbers in the result: the shown one and the best others that passed."""
    shown = [(i, c) for i, c in enumerate(result.candidates) if c.text == result.reply]
    others = sorted(((i, c) for i, c in enumerate(result.candidates) if c.text != result.reply
                     and c.p_real >= threshold), key=lambda pair: -pair[1].quality)
    return [*shown[:1], *others][:MENU_DRAFTS]


def options(result: ProjectResult, threshold: float) -> list[discord.SelectOption]:
    return [discord.SelectOption(label=f"Draft {i + 1}: {first_line(c.text, 80)}"[:100], value=str(i),
                                 description=f"expected rating {c.quality:.1f}", default=c.text == result.reply)
            for i, c in choices(result, threshold)]


async def pick(actions: MenuActions, interaction: discord.Interaction, job_id: str, values: list[str]) -> None:
    record = await actions.store.jobs.get(job_id)
    if record is None or not isinstance(record.result, ProjectResult) or not record.result.candidates:
        raise InputError("I no longer have that answer's drafts on record.")
    if not may_delete(interaction, record.user_id):
        raise InputError("Only the member who asked, or someone who can manage messages, can choose the draft shown.")
    result = record.result
    offered = {str(i): c.text for i, c in choices(result, actions.threshold)}
    chosen = offered.get(values[0]) if values else None
    if chosen is None:
        raise InputError("That draft is not one I can show.")
    if chosen == result.reply:
        await interaction.response.send_message("That draft is the one shown.", ephemeral=True,
                                                allowed_mentions=NO_PINGS)
        return
    shown = await actions.store.jobs.show_draft(job_id, chosen)
    if shown is None:
        raise InputError("That answer can no longer be changed.")
    await actions.store.preferences.record(job_id, interaction.user.id, record.guild_id, record.request or "",
                                           result.reply or "", chosen)
    embeds, view = await actions.show(record, shown)
    await interaction.response.edit_message(embeds=embeds, view=view, allowed_mentions=NO_PINGS)


class DraftMenu(discord.ui.DynamicItem[discord.ui.Select[Any]], template=TEMPLATE):
    actions: ClassVar[MenuActions]  # set on the subclass that `DraftMenus` binds

    def __init__(self, job_id: str, offered: list[discord.SelectOption] | None = None) -> None:
        # Rebuilt from a click, the menu needs no options: the member's choice comes with the interaction.
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"implementor:pick:{job_id}", placeholder="Show another draft",
            options=offered or [discord.SelectOption(label="draft", value="0")])
        super().__init__(select)
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> DraftMenu:
        return cls(match["job"])

    @friendly
    async def callback(self, interaction: discord.Interaction) -> None:
        data = cast("dict[str, Any]", interaction.data or {})
        await pick(self.actions, interaction, self.job_id, [str(v) for v in data.get("values", [])])


class DraftMenus:
    """One bot's draft menu: the class bound to its actions, to register, and the menu for an answer."""

    def __init__(self, actions: MenuActions) -> None:
        self.actions = actions

        def body(namespace: dict[str, Any]) -> None:
            namespace.update(actions=actions, __module__=DraftMenu.__module__, __qualname__=DraftMenu.__qualname__)

        template = {"template": DraftMenu.__discord_ui_compiled_template__}
        self.item = cast("type[DraftMenu]", types.new_class(DraftMenu.__name__, (DraftMenu,), template, body))

    def menu(self, job_id: str, result: ProjectResult) -> DraftMenu | None:
        """The menu under an answer; none when there is no other draft to show."""
        offered = options(result, self.actions.threshold)
        return self.item(job_id, offered) if len(offered) > 1 else None
