"""/team, from the roster in the real store."""

from __future__ import annotations

from typing import Any

from bot.app import Wiring
from bot.store import Store


async def test_team_lists_the_roster(wiring: Wiring, store: Store, make_interaction: Any) -> None:
    cog = wiring.team
    empty = make_interaction()
    await cog.team.callback(cog, empty)
    assert "Nobody yet" in empty.response.messages[0][0]
    await store.hire(7, "Ada <@1> Lovelace", "Data Scientist", 7, "cv", b"png", 42)
    listed = make_interaction()
    await cog.team.callback(cog, listed)
    embed = listed.response.messages[0][1]["embed"]
    assert "Data Scientist" in embed.description
