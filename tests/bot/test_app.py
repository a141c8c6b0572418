"""The bot as a whole: what it imports, the intents it asks for, and what setup_hook wires and registers."""

from __future__ import annotations

import subprocess
import sys

from bot.app import ImplementorBot, intents


def test_the_bot_never_imports_torch_or_the_models() -> None:
    code = ("import sys, bot.app, implementor.bot_commands; "
            "bad = [m for m in ('torch', 'transformers', 'models') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_bot_asks_for_no_privileged_intents() -> None:
    chosen = intents()
    assert not chosen.message_content and not chosen.members and not chosen.presences
    assert chosen.guilds and chosen.guild_messages


async def test_setup_loads_every_cog_and_the_persistent_buttons(bot: ImplementorBot) -> None:
    assert set(bot.cogs) == {"Introduce", "Team", "Project", "Feedback"}
    assert len(bot.dynamic_items) == 5  # cancel, why, rate, delete, regenerate
    assert bot.wiring is not None and bot.dynamic_items == bot.wiring.buttons.dynamic_items
    assert bot.allowed_mentions is not None and bot.allowed_mentions.to_dict() == {"parse": []}
