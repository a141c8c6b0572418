"""Draw a message the bot posted, as Discord shows it, for the docs.

The messages come from the end-to-end test: the real bot, a real worker with the bundled models and the
fake Discord API, which keeps what it receives. This script only lays that JSON and its attachments out
as a picture (dark theme, the message's text with its mention, embeds, the face as Discord places it,
buttons in their styles with their emoji, a select menu showing its chosen option); it invents no
content. A JSON list is a conversation: its messages in order, each reply under the line Discord
shows above it ("replying to ..."). `make docs-images` runs both steps:

    IMPLEMENTOR_E2E_BUNDLED=1 IMPLEMENTOR_E2E_CAPTURE=out/discord \\
        .venv/bin/pytest tests/bot/test_discord_e2e.py -k "introduce_is or project_is or conversation"
    .venv/bin/python docs/render_discord.py out/discord/introduce.json docs/discord-introduce.png
    .venv/bin/python docs/render_discord.py out/discord/project.json docs/discord-project.png
    .venv/bin/python docs/render_discord.py out/discord/conversation.json docs/discord-conversation.png

The emoji are drawn from Noto Color Emoji (Debian: fonts-noto-color-emoji) where it is installed, else
as text the DejaVu font has, and the script says so.
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

WIDTH, PAD, EMBED_WIDTH = 760, 16, 640
BACKGROUND, EMBED, TEXT, MUTED, WHITE = (49, 51, 56), (43, 45, 49), (219, 222, 225), (148, 155, 164), (242, 243, 245)
# Discord's button styles: primary (blurple), secondary (grey), success (green), danger (red).
BUTTON_STYLES = {1: (88, 101, 242), 2: (78, 80, 88), 3: (36, 128, 70), 4: (218, 55, 60)}
MENTION, MENTION_TEXT = (60, 66, 112), (201, 205, 251)
THUMBNAIL = 80
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
# Without a colour emoji font, the buttons' emoji are drawn as text DejaVu has.
EMOJI_AS_TEXT = {"👍": "+1", "👎": "-1", "🔄": "↻", "🗑️": "✕", "❔": "?"}
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
EMOJI_STRIKE = 109  # the one size Noto Color Emoji's bitmaps come in


@cache
def emoji_image(emoji: str, side: int) -> Image.Image | None:
    """A colour emoji, `side` px square; None where no colour emoji font is installed."""
    if not EMOJI_FONT.exists():
        return None
    face = ImageFont.truetype(str(EMOJI_FONT), EMOJI_STRIKE)
    glyph = Image.new("RGBA", (EMOJI_STRIKE + 30, EMOJI_STRIKE + 30), (0, 0, 0, 0))
    ImageDraw.Draw(glyph).text((0, 0), emoji, font=face, embedded_color=True)
    box = glyph.getbbox()
    return glyph.crop(box).resize((side, side), Image.Resampling.LANCZOS) if box else None


def font(size: int, bold: bool = False) -> Font:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(name, size)
    except OSError:
        return ImageFont.load_default(size=size)


def wrap(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int) -> list[str]:
    """Greedy word wrap to a width in pixels; keeps the text's own line breaks."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if draw.textlength(candidate, font=face) <= width or not line:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


class Canvas:
    """A tall scratch image written top to bottom, cropped to what was used."""

    def __init__(self) -> None:
        self.image = Image.new("RGB", (WIDTH, 12000), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        self.y = PAD

    def text(self, x: int, text: str, size: int = 15, bold: bool = False, colour: tuple[int, int, int] = TEXT,
             width: int = EMBED_WIDTH - 40) -> None:
        """Markdown as Discord shows the little of it we send: **bold** lines, and "> " quotes with a bar."""
        for paragraph in text.split("\n"):
            quote = paragraph.startswith("> ")
            indent = 12 if quote else 0
            top = self.y
            for raw in wrap(self.draw, paragraph.removeprefix("> "), font(size, bold), width - indent):
                line_bold = bold or (raw.startswith("**") and raw.endswith("**") and len(raw) > 4)
                line = raw.strip("*") if line_bold else raw
                self.draw.text((x + indent, self.y), line, font=font(size, line_bold),
                               fill=WHITE if line_bold else colour)
                self.y += int(size * 1.45)
            if quote:
                self.draw.rectangle((x, top + 2, x + 3, self.y - 2), fill=MUTED)

    def crop(self) -> Image.Image:
        return self.image.crop((0, 0, WIDTH, self.y + PAD))


def render(message: dict[str, Any], attachments: dict[str, Path]) -> Image.Image:
    canvas = Canvas()
    _message(canvas, message, attachments)
    return canvas.crop()


def render_thread(messages: list[dict[str, Any]], attachments: list[dict[str, Path]]) -> Image.Image:
    """Messages in order, as the channel shows them; a reply under a line naming what it answers."""
    canvas = Canvas()
    authors = {m.get("id"): _author(m) for m in messages}
    for message, files in zip(messages, attachments, strict=True):
        answered = (message.get("message_reference") or {}).get("message_id")
        if answered:
            canvas.draw.line((PAD + 20, canvas.y + 8, PAD + 20, canvas.y + 16), fill=MUTED, width=2)
            canvas.draw.line((PAD + 20, canvas.y + 8, PAD + 46, canvas.y + 8), fill=MUTED, width=2)
            canvas.draw.text((PAD + 52, canvas.y), f"replying to {authors.get(answered, 'a message')}",
                             font=font(12), fill=MUTED)
            canvas.y += 20
        _message(canvas, message, files)
        canvas.y += 8
    return canvas.crop()


def _author(message: dict[str, Any]) -> str:
    author = message.get("author") or {}
    return "The Implementor" if author.get("bot") else f"member{author.get('id', '')}"


def _message(canvas: Canvas, message: dict[str, Any], attachments: dict[str, Path]) -> None:
    draw, name = canvas.draw, _author(message)
    bot = name == "The Implementor"
    draw.ellipse((PAD, canvas.y, PAD + 40, canvas.y + 40), fill=(88, 101, 242) if bot else (120, 124, 132))
    draw.text((PAD + 52, canvas.y), name, font=font(16, True), fill=WHITE)
    draw.text((PAD + 52 + draw.textlength(f"{name} ", font=font(16, True)), canvas.y + 2),
              "APP  Today" if bot else "Today", font=font(12), fill=MUTED)
    canvas.y += 24
    left = PAD + 52
    if message.get("content"):
        names = {str(m.get("id")): m.get("username", "") for m in message.get("mentions", [])}
        _content(canvas, left, message["content"], names)
    for embed in message.get("embeds", []):
        top = canvas.y + 4
        canvas.y = top + 10
        x = left + 14
        _embed_body(canvas, embed, attachments, x)  # once to measure its height ...
        colour = embed.get("color") or 0x5865F2
        bottom = max(canvas.y, top + 10 + (THUMBNAIL if embed.get("thumbnail") else 0))
        draw.rectangle((left, top, left + EMBED_WIDTH, bottom + 8), fill=EMBED)
        bar = ((colour >> 16) & 255, (colour >> 8) & 255, colour & 255)
        draw.rectangle((left, top, left + 4, bottom + 8), fill=bar)
        canvas.y = top + 10
        _embed_body(canvas, embed, attachments, x)  # ... and again on top of its background
        _thumbnail(canvas, embed, attachments, left + EMBED_WIDTH - THUMBNAIL - 12, top + 10)
        canvas.y = bottom + 14
    for row in message.get("components", []):
        menus = [c for c in row.get("components", []) if c.get("type") == 3]
        for menu in menus:
            _select(canvas, left, menu)
        _buttons(canvas, left, [c for c in row.get("components", []) if c.get("type") != 3])


def _select(canvas: Canvas, left: int, menu: dict[str, Any]) -> None:
    """A select menu, closed, showing its chosen option (or its placeholder), as Discord draws it."""
    chosen = next((o["label"] for o in menu.get("options", []) if o.get("default")), menu.get("placeholder", ""))
    canvas.draw.rounded_rectangle((left, canvas.y, left + EMBED_WIDTH - 40, canvas.y + 38), radius=4,
                                  fill=(30, 31, 34), outline=(20, 20, 22))
    face = font(14)
    text = chosen
    while canvas.draw.textlength(text, font=face) > EMBED_WIDTH - 100 and len(text) > 2:
        text = text[:-2] + "…"
    canvas.draw.text((left + 12, canvas.y + 10), text, font=face, fill=TEXT)
    canvas.draw.text((left + EMBED_WIDTH - 68, canvas.y + 8), "⌄", font=font(18, True), fill=TEXT)
    canvas.y += 46


def _content(canvas: Canvas, left: int, content: str, names: dict[str, str] | None = None) -> None:
    """The message's text; a user mention is a highlighted chip, as Discord shows it (by name where the
    message says whom it mentions: the bot, in a member's reply)."""
    x, face = left, font(15)
    for part in re.split(r"(<@!?\d+>)", content):
        if not part:
            continue
        mention = re.fullmatch(r"<@!?(\d+)>", part)
        text = f"@{(names or {}).get(mention.group(1)) or 'member' + mention.group(1)}" if mention else part
        width = int(canvas.draw.textlength(text, font=face))
        if mention:
            canvas.draw.rounded_rectangle((x - 2, canvas.y - 1, x + width + 2, canvas.y + 20), radius=3, fill=MENTION)
        canvas.draw.text((x, canvas.y), text, font=face, fill=MENTION_TEXT if mention else TEXT)
        x += width
    canvas.y += 24


def _buttons(canvas: Canvas, left: int, buttons: list[dict[str, Any]]) -> None:
    draw, bx = canvas.draw, left
    for button in buttons:
        emoji = (button.get("emoji") or {}).get("name")
        picture = emoji_image(emoji, 20) if emoji else None
        text = button.get("label") or ("" if picture else EMOJI_AS_TEXT.get(emoji or "", emoji or ""))
        if emoji and picture is None and button.get("label"):
            text = f"{EMOJI_AS_TEXT.get(emoji, emoji)} {text}"
        w = int(draw.textlength(text, font=font(14))) + 28 + (24 if picture else 0) - (8 if picture and not text else 0)
        fill = BUTTON_STYLES.get(button.get("style", 2), BUTTON_STYLES[2])
        draw.rounded_rectangle((bx, canvas.y, bx + w, canvas.y + 32), radius=4, fill=fill)
        tx = bx + 14
        if picture is not None:
            canvas.image.paste(picture, (tx, canvas.y + 6), picture)
            tx += 24
        draw.text((tx, canvas.y + 7), text, font=font(14), fill=WHITE)
        bx += w + 8
    canvas.y += 40


def _thumbnail(canvas: Canvas, embed: dict[str, Any], attachments: dict[str, Path], x: int, y: int) -> None:
    """Discord puts an embed's thumbnail at its top right, 80 px."""
    name = (embed.get("thumbnail") or {}).get("url", "").removeprefix("attachment://")
    if name in attachments:
        face = Image.open(attachments[name]).convert("RGB").resize((THUMBNAIL, THUMBNAIL), Image.Resampling.LANCZOS)
        canvas.image.paste(face, (x, y))


def _embed_body(canvas: Canvas, embed: dict[str, Any], attachments: dict[str, Path], x: int) -> None:
    width = EMBED_WIDTH - 40 - (THUMBNAIL + 16 if embed.get("thumbnail") else 0)
    if embed.get("author"):
        canvas.text(x, embed["author"]["name"], size=13, bold=True, width=width)
    if embed.get("title"):
        canvas.text(x, embed["title"], size=17, bold=True, width=width)
    if embed.get("description"):
        text = re.sub(r"<@!?(\d+)>", r"@member\1", embed["description"])
        canvas.text(x, text, width=width)
    for field in embed.get("fields", []):
        canvas.y += 4
        canvas.text(x, field["name"], size=14, bold=True, width=width)
        canvas.text(x, field["value"], size=14, width=width)
    name = (embed.get("image") or {}).get("url", "").removeprefix("attachment://")
    if name in attachments:
        canvas.y += 6
        canvas.image.paste(Image.open(attachments[name]).convert("RGB").resize((256, 256)), (x, canvas.y))
        canvas.y += 256 + 6
    if embed.get("footer"):
        canvas.text(x, embed["footer"]["text"], size=12, colour=MUTED)


def main(message_json: Path, out: Path) -> None:
    if not EMOJI_FONT.exists():
        print(f"no colour emoji font at {EMOJI_FONT} (apt-get install fonts-noto-color-emoji): emoji drawn as text")
    message = json.loads(message_json.read_text())
    if isinstance(message, list):  # a conversation: message i's attachments are STEM-i-NAME
        files = [{p.name.removeprefix(f"{message_json.stem}-{i}-"): p
                  for p in message_json.parent.glob(f"{message_json.stem}-{i}-*")} for i in range(len(message))]
        render_thread(message, files).save(out)
        print(f"rendered {message_json} ({len(message)} messages) -> {out}")
        return
    prefix = message_json.stem + "-"
    attachments = {p.name.removeprefix(prefix): p for p in message_json.parent.glob(prefix + "*")}
    render(message, attachments).save(out)
    print(f"rendered {message_json} -> {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: render_discord.py MESSAGE.json OUT.png")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
