"""/team, from the roster in the real store."""

from __future__ import annotations

from bot_fake_client import MakeInteraction

from implementor.bot.app import Wiring
from implementor.store.database import Store


async def test_team_lists_the_roster_with_names_made_safe(wiring: Wiring, store: Store,
                                                         make_interaction: MakeInteraction) -> None:
    cog = wiring.team
    empty = make_interaction()
    await cog.team.callback(cog, empty)  # type: ignore[arg-type, call-arg]
    assert empty.response.private == ["Nobody yet: try /introduce."]
    await store.hire(7, "Ada <@1> Lovelace", "Data Scientist", 7, "cv", b"png", 42)
    await store.hire(7, "Alan *Turing*", "Cryptanalyst", 8, "cv", b"png", 43)
    listed = make_interaction()
    await cog.team.callback(cog, listed)  # type: ignore[arg-type, call-arg]
    [(_, options)] = listed.response.public
    embed = options["embed"]
    assert "1. **Ada <@1> Lovelace**, Data Scientist" in embed.description
    assert "2. **Alan \\*Turing\\***, Cryptanalyst" in embed.description
    assert options["allowed_mentions"].to_dict() == {"parse": []}  # the <@1> pings nobody
