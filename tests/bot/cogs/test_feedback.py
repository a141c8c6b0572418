"""/ratings, from the ratings in the real store: one server's only, and never in a DM."""

from __future__ import annotations

import pytest
from bot_fake_client import MakeInteraction

from implementor.bot.app import Wiring
from implementor.contracts.errors import InputError
from implementor.store.database import Store


async def test_ratings_summarise_what_members_thought(wiring: Wiring, store: Store,
                                                      make_interaction: MakeInteraction) -> None:
    cog = wiring.feedback
    empty = make_interaction(manage_messages=True)
    await cog.ratings.callback(cog, empty)  # type: ignore[arg-type, call-arg]
    [(text, options)] = empty.response.messages
    assert text == "No ratings yet." and options["ephemeral"]
    assert options["allowed_mentions"].to_dict() == {"parse": []}

    await store.rate("job-0001", 42, "Help with the launch?", "Yes.", 5, guild_id=7)
    await store.rate("job-0001", 43, "Help with the launch?", "Yes.", 1, guild_id=7)
    summary = make_interaction(manage_messages=True)
    await cog.ratings.callback(cog, summary)  # type: ignore[arg-type, call-arg]
    assert summary.response.private == ["2 ratings: 1 👍, 1 👎 (mean 3.0 of 5)."]


async def test_a_server_sees_its_own_ratings_and_no_other_servers(wiring: Wiring, store: Store,
                                                                  make_interaction: MakeInteraction) -> None:
    cog = wiring.feedback
    await store.rate("job-here-1", 42, "Help?", "Yes.", 5, guild_id=7)
    await store.rate("job-there-1", 43, "Help?", "No.", 1, guild_id=8)
    await store.rate("job-there-2", 44, "Help?", "No.", 1, guild_id=8)
    here, there = make_interaction(guild_id=7, manage_messages=True), make_interaction(guild_id=8, manage_messages=True)
    await cog.ratings.callback(cog, here)  # type: ignore[arg-type, call-arg]
    await cog.ratings.callback(cog, there)  # type: ignore[arg-type, call-arg]
    assert here.response.private == ["1 ratings: 1 👍, 0 👎 (mean 5.0 of 5)."]
    assert there.response.private == ["2 ratings: 0 👍, 2 👎 (mean 1.0 of 5)."]
    assert len(await store.feedback()) == 3  # training still reads every server's


async def test_ratings_are_refused_in_a_dm(wiring: Wiring, store: Store, make_interaction: MakeInteraction) -> None:
    await store.rate("job-here-1", 42, "Help?", "Yes.", 5, guild_id=7)
    cog = wiring.feedback
    with pytest.raises(InputError, match="per server"):
        await cog.ratings.callback(cog, make_interaction(guild_id=None))  # type: ignore[arg-type, call-arg]
