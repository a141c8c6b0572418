"""A job's messages on Discord, sent and edited from the book alone: nothing here needs the interaction object.

A job's status message and its result go to the interaction's follow-up webhook while its token
lives (15 minutes), and to the channel after that, so a restarted bot posts exactly where the member
asked. A follow-up's messages go to the channel as Discord replies to the message they answer (the
member's reply, or the answer a Follow up was typed under), so the thread reads as a conversation.
`find_posted` answers the one question a crash can leave open ("did my last post go out?") by
looking for the job's buttons on the channel's recent messages.

Every message sent to a channel carries a nonce derived from its job and its part (`nonce`: the status,
the result, each follow-up) with Discord's `enforce_nonce` (discord.py sets it with any nonce): a create
retried within Discord's window (a process that died mid-post, another taking its job over) gets the first
message back instead of posting a second. Follow-up webhooks take no nonce; they live only 15 minutes, and
`find_posted` covers them.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from implementor.bot.metrics import BotMetrics
from implementor.bot.render import NO_PINGS, Rendered
from implementor.contracts.jobs import Result
from implementor.store.jobbook import JobRecord

log = logging.getLogger(__name__)

Render = Callable[[JobRecord, Result], Awaitable[tuple[Rendered, list[discord.File], discord.ui.View | None]]]
StatusView = Callable[[str], discord.ui.View]  # a job id -> the buttons its status message carries (Cancel)
ResultView = Callable[[str, str], discord.ui.View]  # (job id, kind) -> the buttons under a posted result
HISTORY_LIMIT = 50  # messages read back when checking whether a result went out before a crash


def nonce(job_id: str, part: str) -> str:
    """The nonce of a job's message (`part`: "status", "result", "extra-1", ...): 25 characters, Discord's most."""
    return hashlib.sha256(f"{job_id}/{part}".encode()).hexdigest()[:25]


class Poster:
    def __init__(self, client: discord.Client, render: Render, status_view: StatusView,
                 clock: Callable[[], float] = time.time, metrics: BotMetrics | None = None,
                 result_view: ResultView | None = None) -> None:
        self.client, self.render, self.status_view, self.clock = client, render, status_view, clock
        self.result_view = result_view  # a Regenerate that did not answer gives the answer its buttons back
        self.metrics = metrics or BotMetrics()  # time to answer: from the book's acceptance to this post

    def _webhook(self, record: JobRecord) -> discord.Webhook | None:
        """The interaction's follow-up webhook, while its token lives."""
        if not record.token_alive(self.clock()) or self.client.application_id is None:
            return None
        return discord.Webhook.partial(self.client.application_id, record.token or "", client=self.client)

    def _channel(self, record: JobRecord) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(record.channel_id)

    async def send(self, record: JobRecord, content: str | None = None, *, part: str, **kwargs: Any
                   ) -> discord.Message:
        """Send one of the job's messages (`part` names which, for its nonce on a channel)."""
        kwargs.setdefault("allowed_mentions", NO_PINGS)
        webhook = self._webhook(record)
        if webhook is not None:
            try:
                sent: discord.Message = await webhook.send(content or discord.utils.MISSING, wait=True, **kwargs)
                return sent
            except discord.NotFound:  # the interaction never got its first answer, or its token died early
                log.info("the follow-up webhook of job %s is gone; posting in the channel", record.job_id)
        if record.reply_to_id is not None:  # a follow-up's messages reply to what they answer (gone: sent plainly)
            kwargs.setdefault("reference", discord.MessageReference(
                message_id=record.reply_to_id, channel_id=record.channel_id, fail_if_not_exists=False))
        return await self._channel(record).send(content, nonce=nonce(record.job_id, part), **kwargs)

    async def send_status(self, record: JobRecord, text: str) -> int:
        message = await self.send(record, text, part="status", view=self.status_view(record.job_id))
        return message.id

    async def edit_status(self, record: JobRecord, text: str, final: bool) -> None:
        """Edit the status message (no Cancel button once it is over; a Regenerate's, in the answer it was to
        replace, gives that answer its buttons back); failures are the caller's to retry."""
        assert record.status_message_id is not None
        view = None if final else self.status_view(record.job_id)
        if final and record.replaces_job_id and self.result_view is not None:
            view = self.result_view(record.replaces_job_id, record.kind)
        webhook = self._webhook(record)
        if webhook is not None:
            try:
                await webhook.edit_message(record.status_message_id, content=text, view=view,
                                           allowed_mentions=NO_PINGS)
                return
            except discord.NotFound:
                pass  # as in `send`: edit through the channel instead
        message = self._channel(record).get_partial_message(record.status_message_id)
        await message.edit(content=text, view=view, allowed_mentions=NO_PINGS)

    async def delete_status(self, record: JobRecord) -> None:
        """Take the status message away once the result is out (gone already counts as done)."""
        assert record.status_message_id is not None
        webhook = self._webhook(record)
        try:
            if webhook is not None:
                try:
                    await webhook.delete_message(record.status_message_id)
                    return
                except discord.NotFound:
                    pass  # its token died early, or the message is gone: the channel says which
            await self._channel(record).get_partial_message(record.status_message_id).delete()
        except discord.NotFound:
            log.info("the status message of job %s was gone already", record.job_id)
        except discord.Forbidden as exc:  # the channel is closed to the bot now: nothing more can be done
            log.warning("could not delete the status message of job %s (%s); its result is posted", record.job_id,
                        exc)

    async def post_result(self, record: JobRecord, result: Result) -> tuple[int, list[str]]:
        """Post a result; returns the message's id and the follow-up texts still to send."""
        rendered, files, view = await self.render(record, result)
        if record.replaces_job_id and record.status_message_id is not None:  # a Regenerate: in place
            message_id = record.status_message_id
            await self._channel(record).get_partial_message(message_id).edit(
                content=rendered.text, embeds=rendered.embeds, attachments=files, view=view,
                allowed_mentions=rendered.mentions)
        else:
            message_id = (await self.send(record, rendered.text, part="result", embeds=rendered.embeds, files=files,
                                          view=view or discord.utils.MISSING, allowed_mentions=rendered.mentions)).id
        self.metrics.time_to_answer.labels(record.kind).observe(max(0.0, self.clock() - record.created_at))
        return message_id, rendered.follow_ups

    async def follow_ups(self, record: JobRecord, result: Result) -> list[str]:
        """The follow-up texts of a result posted already, to send those still missing (rendering has no
        side effects: an introduction's hire happened when its result arrived)."""
        rendered, _, _ = await self.render(record, result)
        return rendered.follow_ups

    async def find_posted(self, record: JobRecord) -> int | None:
        """The id of a message of ours that already carries this job's result buttons, if there is one."""
        marker = f":{record.job_id}"
        me = self.client.user
        async for message in self._channel(record).history(limit=HISTORY_LIMIT):
            if me is not None and message.author.id != me.id:
                continue
            ids = [getattr(child, "custom_id", "") or "" for row in message.components
                   for child in getattr(row, "children", [])]
            if any(marker in i and not i.startswith("implementor:cancel") for i in ids):
                return message.id
        return None
