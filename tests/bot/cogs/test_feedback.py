"""/ratings, from the ratings in the real store."""

from __future__ import annotations

from bot_fake_client import MakeInteraction

from bot.app import Wiring
from bot.store import Store


async def test_ratings_summarise_what_members_thought(wiring: Wiring, store: Store,
                                                      make_interaction: MakeInteraction) -> None:
    cog = wiring.feedback
    empty = make_interaction(manage_messages=True)
    await cog.ratings.callback(cog, empty)  # type: ignore[arg-type, call-arg]
    [(text, options)] = empty.response.messages
    assert text == "No ratings yet." and options["ephemeral"]
    assert options["allowed_mentions"].to_dict() == {"parse": []}

    await store.rate("job-0001", 42, "Help with the launch?", "Yes.", 5)
    await store.rate("job-0001", 43, "Help with the launch?", "Yes.", 1)
    summary = make_interaction(manage_messages=True)
    await cog.ratings.callback(cog, summary)  # type: ignore[arg-type, call-arg]
    assert summary.response.private == ["2 ratings: 1 👍, 1 👎 (mean 3.0 of 5)."]
