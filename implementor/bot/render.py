"""Turning results into Discord messages, within Discord's limits, and never pinging anyone.

Everything the bot sends goes out with `NO_PINGS`, and every generated text passes `safe()` first.

Limits (Discord's): an embed description holds 4,096 characters, a field 1,024 and 25 fields, a
whole embed 6,000, and a message 2,000. A CV's Profile goes in the description, its other sections
in fields (split at line breaks when long), and whatever an embed cannot hold follows as messages.
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
NO_PINGS = discord.AllowedMentions.none()  # sent with every message, edit and reply


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
    embed: discord.Embed
    follow_ups: list[str] = field(default_factory=list)  # messages to send after the embed


def _embed_size(embed: discord.Embed) -> int:
    return len(embed)


def cv_embed(name: str, title: str, cv: str, image_url: str | None = None) -> Rendered:
    """An introduction: the face, the name and title, and the CV split to fit."""
    name, title = safe(name)[:256], safe(title)[:256]
    parts = sections(safe(cv))
    embed = discord.Embed(title=name, description="", colour=COLOUR)
    embed.set_author(name=title)
    if image_url:
        embed.set_image(url=image_url)
    follow_ups: list[str] = []
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
    for text in overflow:
        follow_ups.extend(split_text(text, MESSAGE_LIMIT))
    return Rendered(embed, follow_ups)


def reply_embed(colleague: str, title: str, reply: str, thumbnail_url: str | None = None,
                low_confidence: bool = False) -> Rendered:
    """A colleague's answer to a project request, in their name."""
    chunks = split_text(safe(reply), DESCRIPTION_LIMIT)
    embed = discord.Embed(description=chunks[0] if chunks else "", colour=COLOUR)
    embed.set_author(name=f"{safe(colleague)[:200]} · {safe(title)[:50]}")
    if thumbnail_url:
        embed.set_thumbnail(url=thumbnail_url)
    if low_confidence:
        embed.set_footer(text="None of my drafts convinced me fully; this is the best of them.")
    return Rendered(embed, [c for text in chunks[1:] for c in split_text(text, MESSAGE_LIMIT)])


def status_line(stage: Stage, position: int | None = None, eta_s: float | None = None, as_of: float | None = None,
                reason: str | None = None) -> str:
    """The one status message a job keeps while it waits and runs, and closes with when it is over.

    An estimate says when it was made (`as_of`, shown in each reader's own time zone), so a message
    that could not be updated for a while never passes an old estimate off as current. Every stage has
    its own line; text that is no stage (a worker's stage this side does not know) reads as working.
    """
    when = f" (as of <t:{int(as_of)}:T>)" if as_of is not None else ""
    known = Stage.named(stage)
    match known:
        case Stage.QUEUED:
            where = f"number {position} in the queue" if position else "in the queue"
            eta = f", about {max(1, round(eta_s))} s" if eta_s else ""
            return f"⏳ Queued: {where}{eta}{when}."
        case Stage.RESERVED:
            return f"⏳ Next up: a worker has taken it{when}."
        case Stage.UNREACHABLE:
            return f"⏳ Queued; the queue cannot be reached right now, so there is no estimate{when}."
        case Stage.LOADING:
            return "⚙️ Waking up (loading the models)..."
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
