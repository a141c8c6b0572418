"""Buttons on results and status messages, persistent across bot restarts.

Every button's state lives in its custom id (`implementor:<action>:<job id>[:<score>]`), and each
class is registered as a dynamic item at start-up, so a button on a message posted last week still
works after a restart. The job it refers to is looked up in the store.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.errors import friendly
from bot.render import scores_table
from config.errors import InputError

if TYPE_CHECKING:
    from bot.app import ImplementorBot

NO_PINGS = discord.AllowedMentions.none()
JOB = r"(?P<job>[A-Za-z0-9_-]{8,64})"


def _bot(interaction: discord.Interaction) -> ImplementorBot:
    return cast("ImplementorBot", interaction.client)


async def _job(interaction: discord.Interaction, job_id: str) -> Any:
    record = await _bot(interaction).store.job(job_id)
    if record is None or record.result is None:
        raise InputError("I no longer have that job on record.")
    return record


class CancelButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"implementor:cancel:{JOB}"):
    def __init__(self, job_id: str) -> None:
        super().__init__(discord.ui.Button(label="Cancel", style=discord.ButtonStyle.secondary,
                                           custom_id=f"implementor:cancel:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> CancelButton:
        return cls(match["job"])

    @friendly
    async def callback(self, interaction: discord.Interaction) -> None:
        bot = _bot(interaction)
        record = await bot.store.job(self.job_id)
        if record is None or record.user_id != interaction.user.id:
            raise InputError("Only the member who asked can cancel this.")
        cancelled = await bot.runner.cancel(self.job_id)
        text = "Cancelled." if cancelled else "Too late to cancel: it is already done or running."
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


class WhyButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"implementor:why:{JOB}"):
    def __init__(self, job_id: str) -> None:
        super().__init__(discord.ui.Button(label="Why this reply?", style=discord.ButtonStyle.secondary,
                                           custom_id=f"implementor:why:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> WhyButton:
        return cls(match["job"])

    @friendly
    async def callback(self, interaction: discord.Interaction) -> None:
        record = await _job(interaction, self.job_id)
        table = scores_table(record.result.get("candidates", []))
        note = ("P(real): how sure the realism discriminator is that a person wrote it (0.9 needed). "
                "quality: the rating colleagues are expected to give, 1 to 5.")
        await interaction.response.send_message(f"{table}\n{note}", ephemeral=True, allowed_mentions=NO_PINGS)


class RateButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"implementor:rate:{JOB}:(?P<score>[1-5])"):
    def __init__(self, job_id: str, score: int) -> None:
        emoji, style = ("👍", discord.ButtonStyle.success) if score >= 4 else ("👎", discord.ButtonStyle.danger)
        super().__init__(discord.ui.Button(emoji=emoji, style=style, custom_id=f"implementor:rate:{job_id}:{score}"))
        self.job_id, self.score = job_id, score

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> RateButton:
        return cls(match["job"], int(match["score"]))

    @friendly
    async def callback(self, interaction: discord.Interaction) -> None:
        record = await _job(interaction, self.job_id)
        reply = record.result.get("reply") or (record.result.get("persona") or {}).get("cv", "")
        request = record.request or "introduce yourself"
        await _bot(interaction).store.rate(self.job_id, interaction.user.id, request, reply, self.score)
        await interaction.response.send_message("Thanks, noted.", ephemeral=True, allowed_mentions=NO_PINGS)


class DeleteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"implementor:delete:{JOB}"):
    def __init__(self, job_id: str) -> None:
        super().__init__(discord.ui.Button(label="Delete", style=discord.ButtonStyle.secondary,
                                           custom_id=f"implementor:delete:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> DeleteButton:
        return cls(match["job"])

    @friendly
    async def callback(self, interaction: discord.Interaction) -> None:
        record = await _bot(interaction).store.job(self.job_id)
        if not may_delete(interaction, record.user_id if record else None):
            raise InputError("Only the member who asked, or someone who can manage messages, can delete this.")
        await interaction.response.defer(ephemeral=True)
        if interaction.message is not None:
            await interaction.message.delete()
        await _bot(interaction).store.set_status(self.job_id, "deleted")


class RegenerateButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"implementor:regen:{JOB}"):
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
        record = await _job(interaction, self.job_id)
        if record.kind != "project" or not record.request:
            raise InputError("Only project replies can be regenerated.")
        cog = _bot(interaction).get_cog("Project")
        await interaction.response.defer(thinking=True)
        await cog.run_project(interaction, record.request)  # type: ignore[union-attr]


def may_delete(interaction: discord.Interaction, requester_id: int | None) -> bool:
    """The member who asked, or anyone allowed to manage messages in that channel."""
    if requester_id is not None and interaction.user.id == requester_id:
        return True
    return bool(interaction.permissions.manage_messages)


def result_view(job_id: str, kind: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if kind == "project":
        view.add_item(WhyButton(job_id))
        view.add_item(RegenerateButton(job_id))
    view.add_item(RateButton(job_id, 5))
    view.add_item(RateButton(job_id, 1))
    view.add_item(DeleteButton(job_id))
    return view


DYNAMIC_ITEMS = (CancelButton, WhyButton, RateButton, DeleteButton, RegenerateButton)
