"""Reading consented channels' history into training sets: pairs, labels and real text, scrubbed.

For every channel an admin enabled (`/learn enable`), from where the last harvest stopped:
- a member's Discord reply to another member's message is a request/reply pair; so is a thread's
  opening message and the first answer another member gave in it;
- the members' other messages are real text for the realism head, each with the one before as context;
- a pair's label is how many distinct members reacted to the reply, binned like the reply bot's
  upvotes (0, 1, 2-4, 5+); the colleague's own replies are labelled by members' 👍 and 👎, as
  reactions or with its rating buttons (a member who did both counts once, as 👍 if either was).
Before anything is written: bots, the colleague's own messages (but for their 👍/👎) and opted-out
members are left out, and mentions, e-mail addresses, phone numbers, links and invites are scrubbed.
It reads at most `max_messages` per channel and run, through discord.py's HTTP client (which waits
out rate limits), and reports what it read, kept and dropped, by reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from implementor.learning.scrub import scrub
from implementor.store.consent import Channel, LearningStore
from implementor.store.datasets import PAIRS, TEXTS, append_new, harvest_dir, reaction_bin

log = logging.getLogger(__name__)

PAGE = 100
UP, DOWN = "👍", "👎"
MIN_WORDS = 3


@dataclass(frozen=True)
class ColleagueJob:
    """One of the colleague's posted replies, from the bot's job book, with the rating buttons' verdicts."""

    request: str
    reply: str
    asker: int
    up: set[int] = field(default_factory=set)  # members who rated it 4-5 (the 👍 button)
    down: set[int] = field(default_factory=set)  # and 1-2 (👎)
    propensity: float | None = None  # how likely the selection policy was to post this draft (None: unknown)
    explored: bool = False  # posted by exploration rather than as the top draft


JobLookup = Callable[[int], Awaitable[ColleagueJob | None]]  # the posted message's id -> its job


def _when(message: dict[str, Any]) -> float:
    return datetime.fromisoformat(message["timestamp"]).timestamp()


class Harvest:
    def __init__(self, http: Any, me: int, learning: LearningStore, learning_dir: Path,
                 jobs: JobLookup | None = None, max_messages: int = 1000, pause_s: float = 0.2, page: int = PAGE
                 ) -> None:
        self.http, self.me, self.learning, self.folder = http, me, learning, harvest_dir(learning_dir)
        self.jobs, self.max_messages, self.pause_s, self.page = jobs, max_messages, pause_s, page
        self.opted_out: set[int] = set()

    async def run(self) -> dict[int, dict[str, Any]]:
        """Harvest every enabled channel; returns each channel's counts."""
        self.opted_out = await self.learning.opted_out()
        return {channel.channel_id: await self.channel(channel)
                for channel in await self.learning.channels(enabled_only=True)}

    async def history(self, channel_id: int, after: int) -> list[dict[str, Any]]:
        """Messages after `after`, oldest first, at most `max_messages`, a page at a time."""
        out: list[dict[str, Any]] = []
        while len(out) < self.max_messages:
            limit = min(self.page, self.max_messages - len(out))
            page = await self.http.logs_from(channel_id, limit, after=after)
            page.sort(key=lambda m: int(m["id"]))
            out.extend(page)
            if len(page) < limit:
                break  # the channel's end
            after = int(page[-1]["id"])
            await asyncio.sleep(self.pause_s)  # pace: one page at a time, politely
        return out

    def reason_to_drop(self, message: dict[str, Any]) -> str | None:
        author = message["author"]
        if int(author["id"]) == self.me:
            return "colleague"
        if author.get("bot"):
            return "bot"
        if int(author["id"]) in self.opted_out:
            return "opted out"
        if len(scrub(message.get("content") or "").split()) < MIN_WORDS:
            return "too short"
        return None

    async def reactors(self, channel_id: int, message: dict[str, Any], emoji: str | None = None) -> set[int]:
        """Distinct members (not bots, not the author) who reacted (with `emoji`, or with anything)."""
        people: set[int] = set()
        for reaction in message.get("reactions") or []:
            name = reaction["emoji"].get("name")
            if emoji is not None and name != emoji:
                continue
            users = await self.http.get_reaction_users(channel_id, message["id"], name, 100)
            people |= {int(u["id"]) for u in users if not u.get("bot")}
        return people - {int(message["author"]["id"])} - self.opted_out

    async def pair(self, channel: Channel, request: dict[str, Any], reply: dict[str, Any], source: str
                   ) -> dict[str, Any]:
        reacted = await self.reactors(channel.channel_id, reply)
        return {"task": "reply", "request": scrub(request["content"]), "reply": scrub(reply["content"]),
                "subject": None, "source": source, "guild_id": channel.guild_id, "channel_id": channel.channel_id,
                "message_id": int(reply["id"]), "request_id": int(request["id"]),
                "request_author": int(request["author"]["id"]), "reply_author": int(reply["author"]["id"]),
                "at": _when(reply), "reactors": len(reacted), "bin": reaction_bin(len(reacted))}

    async def colleague_reply(self, channel: Channel, message: dict[str, Any]) -> dict[str, Any] | None:
        """One of the colleague's own replies, labelled by members' 👍 and 👎 (reactions and rating buttons)."""
        found = await self.jobs(int(message["id"])) if self.jobs else None
        if found is None or found.asker in self.opted_out:
            return None
        up = (await self.reactors(channel.channel_id, message, UP) | found.up) - self.opted_out
        down = (await self.reactors(channel.channel_id, message, DOWN) | found.down) - self.opted_out - up
        return {"task": "reply", "request": scrub(found.request), "reply": scrub(found.reply), "subject": None,
                "source": "colleague", "guild_id": channel.guild_id, "channel_id": channel.channel_id,
                "message_id": int(message["id"]), "request_author": found.asker, "reply_author": self.me,
                "at": _when(message), "reactors": len(up | down), "bin": reaction_bin(len(up | down)),
                "thumbs_up": len(up), "thumbs_down": len(down), "propensity": found.propensity,
                "explored": found.explored}

    async def channel(self, channel: Channel) -> dict[str, Any]:
        messages = await self.history(channel.channel_id, channel.last_message_id or 0)
        counts: Counter[str] = Counter(read=len(messages))
        by_id = {int(m["id"]): m for m in messages}
        pairs, texts, previous = [], [], None
        for message in messages:
            dropped = self.reason_to_drop(message)
            if dropped == "colleague" and (row := await self.colleague_reply(channel, message)) is not None:
                pairs.append(row)
                continue
            if dropped:
                counts[f"dropped: {dropped}"] += 1
                continue
            reference = (message.get("message_reference") or {}).get("message_id")
            request = message.get("referenced_message") or by_id.get(int(reference)) if reference else None
            if request is not None and self.reason_to_drop(request) is None:
                pairs.append(await self.pair(channel, request, message, "reply"))
            else:
                texts.append({"message_id": int(message["id"]), "guild_id": channel.guild_id,
                              "channel_id": channel.channel_id, "author": int(message["author"]["id"]),
                              "at": _when(message), "context": scrub(previous["content"]) if previous else "",
                              "context_author": int(previous["author"]["id"]) if previous else None,
                              "text": scrub(message["content"])})
            previous = message  # the context of the next text: a member's message we keep, never a dropped one
        from_threads, settled = await self.thread_pairs(channel)
        pairs += from_threads
        # Someone may have opted out while this ran: their rows go before anything is written.
        self.opted_out |= await self.learning.opted_out()
        people = ("request_author", "reply_author", "author", "context_author")
        pairs, texts = ([r for r in rows if not any(r.get(k) in self.opted_out for k in people)]
                        for rows in (pairs, texts))
        counts["kept: pairs"] = append_new(self.folder / PAIRS, pairs)
        counts["kept: texts"] = append_new(self.folder / TEXTS, texts)
        for thread_id, last_id, how in settled:
            await self.learning.advance(channel.guild_id, thread_id, last_id, {"thread": how})
        if messages:
            await self.learning.advance(channel.guild_id, channel.channel_id, int(messages[-1]["id"]), dict(counts))
        log.info("harvested channel %s: %s", channel.channel_id, dict(counts))
        return dict(counts)

    async def thread_pairs(self, channel: Channel) -> tuple[list[dict[str, Any]], list[tuple[int, int, str]]]:
        """A thread's opening message and the first answer another member gave in it, per thread.

        A thread is settled once it gave its pair, or if its opening message is one we never keep (a
        bot's, an opted-out member's): it is not read again. One still waiting for an answer is read
        (its first page) on each run until it has one. Returns the pairs, and the threads now settled
        (their cursors move only once the pairs are written).
        """
        settled = await self.learning.cursors()
        active = (await self.http.get_active_threads(channel.guild_id)).get("threads", [])
        archived = (await self.http.get_public_archived_threads(channel.channel_id)).get("threads", [])
        out, done = [], []
        for thread in [t for t in active + archived if int(t.get("parent_id") or 0) == channel.channel_id
                       and int(t["id"]) not in settled]:
            messages = sorted(await self.http.logs_from(int(thread["id"]), PAGE, after=0), key=lambda m: int(m["id"]))
            if not messages:
                continue
            first, answer = messages[0], None
            if self.reason_to_drop(first) is None:
                answer = next((m for m in messages[1:] if self.reason_to_drop(m) is None
                               and m["author"]["id"] != first["author"]["id"]), None)
                if answer is None:
                    continue  # no answer yet: read again next time
                out.append({**await self.pair(channel, first, answer, "thread"), "thread_id": int(thread["id"])})
            done.append((int(thread["id"]), int((answer or first)["id"]), "paired" if answer else "opening not kept"))
        return out, done
