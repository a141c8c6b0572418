"""Turning results into Discord messages, within Discord's limits, and never pinging anyone.

Everything the bot sends goes out with `NO_PINGS`, and every generated text passes `safe()` first.

Limits (Discord's): an embed description holds 4,096 characters, a field 1,024 and 25 fields, a
message's embeds 6,000 together (at most 10), and a message's text 2,000. A CV's Profile goes in the
description, its other sections in fields (split at line breaks when long); what the first embed
cannot hold goes in more embeds of the same message, so a request is answered by one message; only
text past the 6,000 a message holds follows as further messages.

A result names who asked and quotes what they asked (an embed's mention shows the member and pings
nobody); the message's text mentions the member who asked, the one ping the bot ever sends
(`ping_only`), so they learn the answer is ready.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import assert_never

import discord

from implementor.contracts import scores
from implementor.contracts.cv import cv_section_list
from implementor.contracts.states import Stage
from implementor.contracts.text_safety import neutralise_mentions

DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
FIELDS_LIMIT = 25
EMBED_LIMIT = 6000
MESSAGE_LIMIT = 2000
COLOUR = discord.Colour.from_rgb(76, 110, 245)
NO_PINGS = discord.AllowedMentions.none()  # sent with every message, edit and reply but a result's
EMBEDS_LIMIT = 10
QUOTE_LIMIT = 300  # the request, quoted above its answer


def ping_only(user_id: int) -> discord.AllowedMentions:
    """A result's one ping: the member who asked, nobody else (no roles, no everyone, no replied user)."""
    return discord.AllowedMentions(everyone=False, roles=False, replied_user=False, users=[discord.Object(user_id)])


def ready_text(user_id: int, kind: str, name: str) -> str:
    """The text of a result's message: the member who asked, told it is ready."""
    who = safe(name)[:80]
    if kind == "hired":  # nobody was on the team: the request hired its colleague (`ProjectJob.hire`)
        return f"<@{user_id}>, {who} joined the team to answer your request (/introduce shows their CV)."
    return f"<@{user_id}>, meet {who}, your new colleague." if kind == "introduce" else \
        f"<@{user_id}>, {who} answered your request."


def quoted(request: str, user_id: int) -> str:
    """The request as its answer shows it: quoted, trimmed, and who asked (an embed mention pings nobody)."""
    text = " ".join(safe(request).split())
    text = text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    return f"> {text}\n> — <@{user_id}>"


def safe(text: str) -> str:
    """Text as it may be posted: no mention syntax (AllowedMentions.none() is the second wall)."""
    return neutralise_mentions(text)


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at line breaks, then sentences, then words."""
    pieces: list[str] = []
    current = ""
    for unit in re.split(r"(?<=\n)|(?<=[.!?] )", text):
        while len(unit) > limit:  # a single line or sentence longer than the limit: cut at a space
            cut = unit.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(unit[:cut])
            unit = unit[cut:].lstrip()
        if len(current) + len(unit) > limit:
            pieces.append(current)
            current = ""
        current += unit
    if current.strip():
        pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]


def sections(cv: str) -> list[tuple[str, str]]:
    """The CV's `## ` sections in order; text with no heading at all is one section, "CV"."""
    return cv_section_list(cv) or [("CV", cv.strip())]


@dataclass
class Rendered:
    embeds: list[discord.Embed]  # one message's: the first, then what it could not hold
    follow_ups: list[str] = field(default_factory=list)  # messages to send after it (past 6,000 characters)
    text: str | None = None  # the message's own text (a result's: the member who asked, told it is ready)
    ping: int | None = None  # the member that text mentions, the one ping allowed

    @property
    def mentions(self) -> discord.AllowedMentions:
        return ping_only(self.ping) if self.ping is not None else NO_PINGS

    @property
    def embed(self) -> discord.Embed:
        return self.embeds[0]


def _embed_size(embed: discord.Embed) -> int:
    return len(embed)


def _packed(first: discord.Embed, overflow: list[str]) -> Rendered:
    """The first embed and the overflow in more embeds of the same message while they fit; the rest after it."""
    embeds, follow_ups = [first], list[str]()
    total = _embed_size(first)
    for text in overflow:
        for chunk in split_text(text, DESCRIPTION_LIMIT):
            if not follow_ups and len(embeds) < EMBEDS_LIMIT and total + len(chunk) <= EMBED_LIMIT:
                embeds.append(discord.Embed(description=chunk, colour=first.colour))
                total += len(chunk)
            else:
                follow_ups.extend(split_text(chunk, MESSAGE_LIMIT))
    return Rendered(embeds, follow_ups)


def cv_embed(name: str, title: str, cv: str, image_url: str | None = None, thumbnail: bool = False) -> Rendered:
    """An introduction: the face (as a thumbnail for a face too small to show large), the name and title,
    and the CV split to fit."""
    name, title = safe(name)[:256], safe(title)[:256]
    parts = sections(safe(cv))
    embed = discord.Embed(title=name, description="", colour=COLOUR)
    embed.set_author(name=title)
    if image_url and thumbnail:
        embed.set_thumbnail(url=image_url)
    elif image_url:
        embed.set_image(url=image_url)
    first_heading, first_body = parts[0]
    description = split_text(first_body, DESCRIPTION_LIMIT - len(first_heading) - 8)
    embed.description = f"**{first_heading}**\n{description[0]}" if description else ""
    overflow = [f"**{first_heading} (continued)**\n{d}" for d in description[1:]]
    for heading, body in parts[1:]:
        for i, chunk in enumerate(split_text(body, FIELD_LIMIT)):
            label = heading if i == 0 else f"{heading} (continued)"
            if len(embed.fields) < FIELDS_LIMIT and _embed_size(embed) + len(label) + len(chunk) <= EMBED_LIMIT:
                embed.add_field(name=label, value=chunk, inline=False)
            else:
                overflow.append(f"**{label}**\n{chunk}")
    return _packed(embed, overflow)


def reply_embed(colleague: str, title: str, reply: str, thumbnail_url: str | None = None,
                low_confidence: bool = False, request: str | None = None, asker_id: int | None = None) -> Rendered:
    """A colleague's answer to a project request, in their name, under the request it answers."""
    head = f"{quoted(request, asker_id)}\n\n" if request and asker_id is not None else ""
    chunks = split_text(safe(reply), DESCRIPTION_LIMIT - len(head))
    embed = discord.Embed(description=head + (chunks[0] if chunks else ""), colour=COLOUR)
    embed.set_author(name=f"{safe(colleague)[:200]} · {safe(title)[:50]}")
    if thumbnail_url:
        embed.set_thumbnail(url=thumbnail_url)
    if low_confidence:
        embed.set_footer(text="None of my drafts convinced me fully; this is the best of them.")
    return _packed(embed, chunks[1:])


BAR_CELLS = 10


def progress_bar(done: float) -> str:
    """`▰▰▰▱▱▱▱▱▱▱ 30%`: how far through its stage a job is."""
    done = min(max(done, 0.0), 1.0)
    filled = int(done * BAR_CELLS + 1e-9)
    return f"{'▰' * filled}{'▱' * (BAR_CELLS - filled)} {round(done * 100)}%"


def serving(workers: int | None) -> str:
    """How many workers serve the queue, as the status says it."""
    if workers is None:
        return ""
    return f" · {workers} worker{'s' if workers != 1 else ''} serving"


def status_line(stage: Stage, position: int | None = None, eta_s: float | None = None, as_of: float | None = None,
                reason: str | None = None, progress: float | None = None, workers: int | None = None) -> str:
    """The one status message a job keeps while it waits and runs, and closes with when it is over.

    An estimate says when it was made (`as_of`, shown in each reader's own time zone), so a message
    that could not be updated for a while never passes an old estimate off as current. With no worker
    alive (`workers` 0) there is no estimate, and the line says so. Every stage has its own line;
    text that is no stage (a worker's stage this side does not know) reads as working.
    """
    when = f" (as of <t:{int(as_of)}:T>)" if as_of is not None else ""
    known = Stage.named(stage)
    match known:
        case Stage.QUEUED:
            where = f"number {position} in the queue" if position else "in the queue"
            if workers == 0:
                return (f"⏳ Queued: {where}. No worker is running right now, so I cannot say when; your request "
                        f"waits in line{when}.")
            eta = f", about {max(1, round(eta_s))} s" if eta_s else ""
            return f"⏳ Queued: {where}{eta}{serving(workers)}{when}."
        case Stage.RESERVED:
            return f"⏳ Next up: a worker has taken it{when}."
        case Stage.UNREACHABLE:
            return f"⏳ Queued; the queue cannot be reached right now, so there is no estimate{when}."
        case Stage.LOADING:
            return "⚙️ Waking up (loading the models)..."
        case Stage.DRAFTING:
            return f"✍️ Writing drafts {progress_bar(progress)}" if progress is not None else "✍️ Writing drafts..."
        case Stage.JUDGING:
            return "⚖️ Judging the drafts and picking the best..."
        case Stage.GENERATING:
            return "✍️ Writing drafts and picking the best..."
        case Stage.WORKING:
            return "⚙️ Working on it..."
        case Stage.DONE:
            return "✅ Done."
        case Stage.CANCELLED:
            return "✖️ Cancelled."
        case Stage.FAILED:
            return f"⚠️ That did not work{': ' + safe(reason)[:300] if reason else ''}; please try again."
        case Stage.EXPIRED:
            return "⌛ Nothing came back in time, so I stopped waiting; please ask again."
        case _:
            assert_never(known)


WHY_NOTE = ("P(real): how sure the realism discriminator is that a person wrote the draft. quality: the rating "
            "colleagues are expected to give, 1 to 5. *: the draft I posted.")


def _readable(row: scores.CandidateScore) -> scores.CandidateScore:
    """A row as it may go in a code block: no mention syntax, and no backtick that could end the block."""
    def clean(text: str) -> str:
        return safe(text).replace("`", "'")

    return row.model_copy(update={"text": clean(row.text), "reason": clean(row.reason)})


def why_message(candidates: Sequence[scores.CandidateScore]) -> str:
    """"Why this reply?": every draft with its scores and verdict, the posted one first, from a result's
    rows, as an aligned table in a code block (a fixed-width font) that fits one message."""
    rows = [_readable(c) for c in candidates]
    if not rows:
        return "I have no drafts on record for this reply."
    fence = "```\n{}\n```\n"
    table = scores.scores_table(rows, limit=MESSAGE_LIMIT - len(fence.format("")) - len(WHY_NOTE))
    return fence.format(table) + WHY_NOTE


def face_file(png_base64: str | None = None, png: bytes | None = None, name: str = "face.png") -> discord.File:
    """A face as an attachment, from a result (base64) or from the roster (bytes)."""
    data = png if png is not None else base64.b64decode(png_base64 or "")
    return discord.File(io.BytesIO(data), filename=name)
