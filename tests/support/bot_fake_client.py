"""Discord as the bot's unit tests see it: a client, its channels and messages, interactions and members'
messages, all recording what the bot sends and edits. No network.

- `FakeClient` has no `application_id`, so the bot's `Poster` sends and edits in channels;
  `Channels` is Discord itself (every channel's messages), shared by a bot and its restarted self.
- A `FakeInteraction`'s public answer lands in its channel (so status edits land on it); private
  (ephemeral) answers stay with the interaction, where only the member sees them.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import discord

from implementor.bot.app import Wiring
from implementor.store.database import Store

Settle = Callable[..., Awaitable[None]]  # the conftest's fixtures, as tests annotate them
Ask = Callable[..., Awaitable[None]]
MakeInteraction = Callable[..., "FakeInteraction"]
Restart = Callable[[], Awaitable[tuple[Wiring, Store]]]


def http_error(status: int = 500, cls: type[discord.HTTPException] = discord.HTTPException) -> discord.HTTPException:
    """What discord.py raises when Discord refuses a request."""
    response: Any = SimpleNamespace(status=status, reason="Refused")
    return cls(response, "Discord said no")


@dataclass
class FakeUser:
    id: int
    bot: bool = False


BOT_USER = FakeUser(900, bot=True)  # the bot's own user: the author of what it sends


@dataclass
class FakeMember(FakeUser):
    """A member who wrote a message: their DMs as the bot sends them, or refused (DMs closed: 403, 50007)."""

    dms_open: bool = True
    dms: list[str | None] = field(default_factory=list)

    async def send(self, content: str | None = None, **kwargs: Any) -> None:
        if not self.dms_open:
            raise http_error(403, discord.Forbidden)
        self.dms.append(content)


@dataclass
class FakeMessage:
    """A message in a channel; its buttons read back as `components`, as Discord returns them."""

    id: int
    content: str | None
    kwargs: dict[str, Any]
    author: FakeUser
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False

    @property
    def embeds(self) -> list[discord.Embed]:
        single = self.kwargs.get("embed")
        return [single] if single is not None else list(self.kwargs.get("embeds") or [])

    @property
    def embed(self) -> discord.Embed | None:
        return next(iter(self.embeds), None)

    @property
    def view(self) -> discord.ui.View | None:
        view = self.kwargs.get("view")
        return view if isinstance(view, discord.ui.View) else None

    @property
    def custom_ids(self) -> list[str]:
        return [item.custom_id for item in self.view.children] if self.view else []  # type: ignore[attr-defined]

    @property
    def components(self) -> list[SimpleNamespace]:
        return [SimpleNamespace(children=[SimpleNamespace(custom_id=i) for i in self.custom_ids])]

    async def edit(self, **kwargs: Any) -> None:
        if self.deleted:
            raise http_error(404, discord.NotFound)
        self.edits.append(kwargs)
        self.kwargs.update({k: v for k, v in kwargs.items() if k != "content"})
        if "content" in kwargs:
            self.content = kwargs["content"]

    async def delete(self) -> None:
        self.deleted = True


class FakeChannel:
    """A text channel: what was sent to it, oldest first, and its history read back newest first."""

    def __init__(self, channel_id: int, ids: Iterator[int]) -> None:
        self.id = channel_id
        self._ids = ids
        self.messages: list[FakeMessage] = []
        self.outcomes: list[bool] = []  # the next sends, in order: True raises discord.HTTPException
        self.history_reads = 0

    def post(self, content: str | None, kwargs: dict[str, Any], author: FakeUser = BOT_USER) -> FakeMessage:
        message = FakeMessage(next(self._ids), content, dict(kwargs), author)
        self.messages.append(message)
        return message

    def refuse(self, *outcomes: bool) -> None:
        """Make the next sends fail (True) or go through (False), in order: `refuse(False, True)`."""
        self.outcomes = list(outcomes)

    async def send(self, content: str | None = None, **kwargs: Any) -> FakeMessage:
        if self.outcomes and self.outcomes.pop(0):
            raise http_error()
        return self.post(content, kwargs)

    def get_partial_message(self, message_id: int) -> FakeMessage:
        found = next((m for m in self.messages if m.id == message_id), None)
        return found or FakeMessage(message_id, None, {}, BOT_USER, deleted=True)

    async def history(self, limit: int | None = 100) -> AsyncIterator[FakeMessage]:
        self.history_reads += 1
        for message in [m for m in reversed(self.messages) if not m.deleted][:limit]:
            yield message

    @property
    def posts(self) -> list[FakeMessage]:
        """The results: messages sent with an embed."""
        return [m for m in self.messages if m.embed is not None]

    @property
    def statuses(self) -> list[FakeMessage]:
        """The status messages: the bot's messages without an embed (deleted ones too: see `left`)."""
        return [m for m in self.messages if m.embed is None and m.author is BOT_USER]

    @property
    def left(self) -> list[FakeMessage]:
        """What members still see of the bot's: its messages that were not deleted."""
        return [m for m in self.messages if not m.deleted and m.author is BOT_USER]


class Channels:
    """Discord's side: every channel and its messages; a restarted bot sees the same ones."""

    def __init__(self) -> None:
        self._ids = itertools.count(1000)
        self._channels: dict[int, FakeChannel] = {}

    def __getitem__(self, channel_id: int) -> FakeChannel:
        if channel_id not in self._channels:
            self._channels[channel_id] = FakeChannel(channel_id, self._ids)
        return self._channels[channel_id]


class FakeClient:
    """The bot's Discord client as the Poster uses it: no follow-up webhooks, only channels."""

    application_id = None

    def __init__(self, channels: Channels, user: FakeUser = BOT_USER) -> None:
        self.channels, self.user = channels, user

    def get_partial_messageable(self, channel_id: int) -> FakeChannel:
        return self.channels[channel_id]


@dataclass
class Answer:
    """What `InteractionResponse.send_message` returns (discord.py's InteractionCallbackResponse)."""

    message_id: int | None


class FakeResponse:
    def __init__(self, channel: FakeChannel) -> None:
        self.channel = channel
        self.deferred = False
        self.fail = False  # True: send_message raises discord.HTTPException
        self.messages: list[tuple[str | None, dict[str, Any]]] = []  # every answer, public or private

    def is_done(self) -> bool:
        return self.deferred or bool(self.messages)

    async def defer(self, **kwargs: Any) -> None:
        self.deferred = True

    async def send_message(self, content: str | None = None, **kwargs: Any) -> Answer:
        if self.fail:
            raise http_error(503)
        self.messages.append((content, kwargs))
        if kwargs.get("ephemeral"):
            return Answer(message_id=None)
        return Answer(message_id=self.channel.post(content, kwargs).id)

    @property
    def private(self) -> list[str | None]:
        return [text for text, kwargs in self.messages if kwargs.get("ephemeral")]

    @property
    def public(self) -> list[tuple[str | None, dict[str, Any]]]:
        return [(text, kwargs) for text, kwargs in self.messages if not kwargs.get("ephemeral")]


class FakeFollowup:
    def __init__(self, channel: FakeChannel) -> None:
        self.channel = channel
        self.private: list[str | None] = []

    async def send(self, content: Any = None, **kwargs: Any) -> FakeMessage | None:
        if kwargs.get("ephemeral"):
            self.private.append(content)
            return None
        return self.channel.post(content, kwargs)


@dataclass
class FakePermissions:
    manage_messages: bool = False
    manage_guild: bool = False


_tokens = itertools.count(1)


class FakeInteraction:
    """A member's slash command or click. No `client`: nothing the bot runs may reach for the bot through it."""

    def __init__(self, channel: FakeChannel, user_id: int = 42, guild_id: int | None = 7,
                 manage_messages: bool = False, manage_guild: bool = False) -> None:
        self.user = FakeUser(user_id)
        self.guild_id = guild_id
        self.channel_id = channel.id
        self.channel = channel
        self.token = f"token-{next(_tokens)}"
        self.response = FakeResponse(channel)
        self.followup = FakeFollowup(channel)
        self.permissions = FakePermissions(manage_messages, manage_guild)
        self.message: FakeMessage | None = None  # the message whose button was clicked

    async def original_response(self) -> FakeMessage:
        return next(m for m in self.channel.messages if m.content == self.response.public[0][0])


class FakeMemberMessage:
    """A member's message in a channel, as `on_message` gets it (mentions carry their content)."""

    def __init__(self, channel: FakeChannel, content: str, mentions: list[Any], user_id: int = 42,
                 guild_id: int = 7, dms_open: bool = True) -> None:
        self.content, self.channel, self.mentions = content, channel, mentions
        self.author = FakeMember(user_id, dms_open=dms_open)
        self.guild = SimpleNamespace(id=guild_id)
        self.replies: list[FakeMessage] = []

    async def reply(self, content: str | None = None, **kwargs: Any) -> FakeMessage:
        message = self.channel.post(content, kwargs)
        self.replies.append(message)
        return message


def texts(channel: FakeChannel) -> list[str]:
    """Everything a member can read in a channel: contents, their edits, and embeds."""
    out: list[Any] = []
    for message in channel.messages:
        out += [message.content, *(edit.get("content") for edit in message.edits)]
        for embed in message.embeds:
            out += [embed.title, embed.description, embed.author.name, *(f.value for f in embed.fields)]
    return [t for t in out if t]
