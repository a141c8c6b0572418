"""Conversations: a member carries on with the colleague after an answer, by its Follow up button or a reply.

Two ways in, neither needing a privileged intent:
- the Follow up button under every project answer opens a modal (`follow_up.py`); what the member
  writes there is their next turn;
- a Discord reply to one of the colleague's answers that mentions the bot ("@Implementor what would
  that cost?"): a message that mentions the bot carries its content without the Message Content intent.

Either way the follow-up is a project job like any other (the same limits, book, reconciler, cancel
and ledger) that carries the conversation so far, rebuilt from the job book (each follow-up keeps the
job it follows: that job's own conversation, its request and the answer shown), and is answered by the
colleague who gave that answer; one who has retired since cannot carry on, and the member is told so.
Its status and its answer are Discord replies to the message they answer.

A reply to an answer that does not mention the bot reaches it with empty text (no Message Content
intent), so it cannot be answered; the member gets a private hint instead, by DM (or, with DMs
closed, a short reply that deletes itself, as refusals of mentions are given), at most once an hour
each: a DM is the one private channel a message allows, and a member who keeps replying to others
under an answer should not be told again and again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import discord
from discord.ext import commands
from pydantic import ValidationError

from implementor.bot.cogs.introduce import TRIGGER
from implementor.bot.cogs.project import persona_of
from implementor.bot.errors import refuse_message
from implementor.bot.runner import JobRunner
from implementor.contracts.errors import InputError, RateLimited
from implementor.contracts.jobs import MAX_TURNS, REQUEST_MAX, REQUEST_MIN, TURN_MAX, ProjectJob, ProjectResult, Turn
from implementor.contracts.states import JobState
from implementor.store.database import Store
from implementor.store.jobbook import JobRecord

HINT_EVERY_S = 3600.0
HINT = ("To carry on the conversation, mention me in your reply (@{me} ...), or use the Follow up button under "
        "the answer: I cannot read replies that do not mention me.")


def conversation_of(parent: JobRecord) -> tuple[Turn, ...]:
    """The turns a follow-up of `parent` carries: the parent's own, then its request and the answer shown."""
    queued = parent.queued_job()
    earlier = queued.history if isinstance(queued, ProjectJob) else ()
    reply = parent.result.reply if isinstance(parent.result, ProjectResult) else None
    if not parent.request or not reply:
        raise InputError("That answer has no text on record to follow up.")
    turns = (*earlier, Turn(role="member", text=parent.request), Turn(role="colleague", text=reply[:TURN_MAX]))
    return turns[-MAX_TURNS:]  # an even number: the oldest request and its answer go together


class Conversation(commands.Cog):
    def __init__(self, *, store: Store, runner: JobRunner, me: Callable[[], discord.abc.Snowflake | None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.runner, self.me, self.clock = store, runner, me, clock
        self._hinted: dict[int, float] = {}  # member -> when they were last hinted

    async def _followed(self, job_id: str) -> JobRecord:
        record = await self.store.jobs.get(job_id)
        if record is None or record.kind != "project" or record.status not in (JobState.POSTING, JobState.POSTED):
            raise InputError("I no longer have that answer on record, so I cannot follow it up.")
        return record

    async def job(self, parent: JobRecord, text: str) -> ProjectJob:
        """The follow-up job: the conversation so far, in the voice of the colleague who answered it."""
        colleague = await self.store.hired_by(parent.job_id)  # the colleague it hired to answer it, if it did
        if parent.colleague_id is not None or colleague is not None:
            if colleague is None:
                colleague = await self.store.colleague(parent.guild_id or 0, parent.colleague_id)
            if colleague is None or colleague.retired:
                name = discord.utils.escape_markdown(colleague.name) if colleague else "The colleague who answered"
                raise InputError(f"{name} has retired, so they cannot carry on this conversation; /project asks "
                                 "the team's current colleague.")
        own = await self.store.servers.get(parent.guild_id or 0)
        try:
            return ProjectJob(request=text, colleague=persona_of(colleague), history=conversation_of(parent),
                              explore=0.0 if own.explore is False else None)
        except ValidationError as exc:
            raise InputError(f"Write your follow-up in {REQUEST_MIN} to {REQUEST_MAX} characters "
                             "(after removing invisible characters).") from exc

    async def ask(self, parent: JobRecord, text: str, user_id: int, reply_to: discord.Message) -> None:
        job = await self.job(parent, text)
        hired = await self.store.hired_by(parent.job_id)
        await self.runner.accept(job, user_id, parent.guild_id, parent.channel_id, reply_to=reply_to,
                                 colleague_id=hired.id if hired else parent.colleague_id, follows=parent.job_id)

    async def follow_up(self, interaction: discord.Interaction, job_id: str, text: str) -> None:
        """The Follow up modal's text: answered as a reply to the answer it was typed under."""
        parent = await self._followed(job_id)
        if interaction.message is None:
            raise InputError("I cannot see the answer this follows; reply to it and mention me instead.")
        await self.ask(parent, text, interaction.user.id, interaction.message)
        await interaction.response.defer()  # the status is a reply in the channel: nothing more to say here

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A reply to one of the colleague's answers: a follow-up if it mentions the bot, else a hint."""
        me = self.me()
        reference = message.reference
        if message.author.bot or me is None or message.guild is None or reference is None:
            return
        if reference.message_id is None or reference.channel_id != message.channel.id:
            return
        parent = await self.store.jobs.answered_as(reference.message_id)
        if parent is None:
            return  # a reply to something else: not ours to answer
        if me not in message.mentions:
            await self._hint(message)
            return
        text = re.sub(rf"<@!?{me.id}>", " ", message.content).strip()
        if TRIGGER.search(text):
            return  # "@Implementor introduce yourself" is the introduction's
        try:
            await self.ask(await self._followed(parent.job_id), text, message.author.id, message)
        except (RateLimited, InputError) as exc:
            await refuse_message(message, str(exc))  # privately, as a slash command's refusal is

    async def _hint(self, message: discord.Message) -> None:
        now = self.clock()
        if now - self._hinted.get(message.author.id, -HINT_EVERY_S) < HINT_EVERY_S:
            return
        self._hinted[message.author.id] = now
        me = self.me()
        await refuse_message(message, HINT.format(me=getattr(me, "name", "Implementor")))
