"""The Follow up modal: a member's next turn in a conversation with the colleague, typed under its answer.

A result's Follow up button (`views.py`) opens it; what the member writes (10 to 1,500 characters,
as a /project request) goes to `submit`, which the bot wires to the conversation cog: a follow-up job
in the same colleague's voice, answered as a reply to the answer it follows. The modal itself keeps
nothing: it names the job it follows in its custom id, so a submit names it too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from implementor.bot.errors import friendly
from implementor.contracts.jobs import REQUEST_MAX, REQUEST_MIN

Submit = Callable[[discord.Interaction, str, str], Awaitable[None]]  # (interaction, followed job id, text)
MODAL_TIMEOUT_S = 15 * 60  # a member may take a while to write; the modal answers for as long as Discord lets it


class FollowUpModal(discord.ui.Modal, title="Follow up"):
    text: discord.ui.TextInput[FollowUpModal] = discord.ui.TextInput(
        label="Your follow-up", style=discord.TextStyle.paragraph, min_length=REQUEST_MIN, max_length=REQUEST_MAX,
        placeholder="What would that cost? Could you start on Monday?")

    def __init__(self, job_id: str, submit: Submit) -> None:
        super().__init__(timeout=MODAL_TIMEOUT_S, custom_id=f"implementor:followup:{job_id}")
        self.job_id, self.submit = job_id, submit

    @friendly
    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.submit(interaction, self.job_id, self.text.value)
