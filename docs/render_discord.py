"""Draw a message the bot posted, as Discord shows it, for the docs.

The messages come from the end-to-end test: the real bot, a real worker with the bundled models and the
fake Discord API, which keeps what it receives. This script only lays that JSON and its attachments out
as a picture (dark theme, embed, buttons); it invents no content.

    IMPLEMENTOR_E2E_BUNDLED=1 IMPLEMENTOR_E2E_CAPTURE=out/discord \\
        .venv/bin/pytest tests/bot/test_discord_e2e.py -k "introduce or project_is"
    .venv/bin/python docs/render_discord.py out/discord/introduce.json docs/discord-introduce.png
    .venv/bin/python docs/render_discord.py out/discord/project.json docs/discord-project.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

WIDTH, PAD, EMBED_WIDTH = 760, 16, 640
BACKGROUND, EMBED, TEXT, MUTED, WHITE = (49, 51, 56), (43, 45, 49), (219, 222, 225), (148, 155, 164), (242, 243, 245)
BUTTON = (78, 80, 88)
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
# DejaVu has no colour emoji; the buttons' emoji are drawn as text it does have.
EMOJI = {"👍": "+1", "👎": "-1", "🔄": "↻", "🗑️": "✕", "❔": "?"}


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
        self.image = Image.new("RGB", (WIDTH, 4000), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        self.y = PAD

    def text(self, x: int, text: str, size: int = 15, bold: bool = False, colour: tuple[int, int, int] = TEXT,
             width: int = EMBED_WIDTH - 40) -> None:
        for raw in wrap(self.draw, text, font(size, bold), width):
            line_bold = bold or (raw.startswith("**") and raw.endswith("**") and len(raw) > 4)
            line = raw.strip("*") if line_bold else raw
            self.draw.text((x, self.y), line, font=font(size, line_bold), fill=WHITE if line_bold else colour)
            self.y += int(size * 1.45)

    def crop(self) -> Image.Image:
        return self.image.crop((0, 0, WIDTH, self.y + PAD))


def render(message: dict[str, Any], attachments: dict[str, Path]) -> Image.Image:
    canvas = Canvas()
    draw = canvas.draw
    draw.ellipse((PAD, canvas.y, PAD + 40, canvas.y + 40), fill=(88, 101, 242))
    draw.text((PAD + 52, canvas.y), "The Implementor", font=font(16, True), fill=WHITE)
    draw.text((PAD + 52 + draw.textlength("The Implementor ", font=font(16, True)), canvas.y + 2), "APP  Today",
              font=font(12), fill=MUTED)
    canvas.y += 24
    left = PAD + 52
    if message.get("content"):
        canvas.text(left, message["content"])
    for embed in message.get("embeds", []):
        top = canvas.y + 4
        canvas.y = top + 10
        x = left + 14
        _embed_body(canvas, embed, attachments, x)  # once to measure its height ...
        colour = embed.get("color") or 0x5865F2
        draw.rectangle((left, top, left + EMBED_WIDTH, canvas.y + 8), fill=EMBED)
        bar = ((colour >> 16) & 255, (colour >> 8) & 255, colour & 255)
        draw.rectangle((left, top, left + 4, canvas.y + 8), fill=bar)
        bottom, canvas.y = canvas.y, top + 10
        _embed_body(canvas, embed, attachments, x)  # ... and again on top of its background
        canvas.y = bottom + 14
    for row in message.get("components", []):
        bx = left
        for button in row.get("components", []):
            emoji = (button.get("emoji") or {}).get("name")
            label = " ".join(p for p in (EMOJI.get(emoji, emoji), button.get("label")) if p)
            w = int(draw.textlength(label, font=font(14))) + 28
            draw.rounded_rectangle((bx, canvas.y, bx + w, canvas.y + 32), radius=4, fill=BUTTON)
            draw.text((bx + 14, canvas.y + 7), label, font=font(14), fill=WHITE)
            bx += w + 8
        canvas.y += 40
    return canvas.crop()


def _embed_body(canvas: Canvas, embed: dict[str, Any], attachments: dict[str, Path], x: int) -> None:
    if embed.get("author"):
        canvas.text(x, embed["author"]["name"], size=13, bold=True)
    if embed.get("title"):
        canvas.text(x, embed["title"], size=17, bold=True)
    if embed.get("description"):
        canvas.text(x, embed["description"])
    for field in embed.get("fields", []):
        canvas.y += 4
        canvas.text(x, field["name"], size=14, bold=True)
        canvas.text(x, field["value"], size=14)
    for key in ("image", "thumbnail"):
        url = (embed.get(key) or {}).get("url", "")
        name = url.removeprefix("attachment://")
        if url.startswith("attachment://") and name in attachments:
            side = 256 if key == "image" else 80
            canvas.y += 6
            canvas.image.paste(Image.open(attachments[name]).convert("RGB").resize((side, side)), (x, canvas.y))
            canvas.y += side + 6
    if embed.get("footer"):
        canvas.text(x, embed["footer"]["text"], size=12, colour=MUTED)


def main(message_json: Path, out: Path) -> None:
    message = json.loads(message_json.read_text())
    prefix = message_json.stem + "-"
    attachments = {p.name.removeprefix(prefix): p for p in message_json.parent.glob(prefix + "*")}
    render(message, attachments).save(out)
    print(f"rendered {message_json} -> {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: render_discord.py MESSAGE.json OUT.png")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
