"""/team show, switch and retire, from the roster in the real store; /settings; Delete on an introduction."""

from __future__ import annotations

import pytest
from bot_fake_client import Ask, MakeInteraction
from bot_fake_queue import FakeJobs

from implementor.bot.app import Wiring
from implementor.bot.cogs.team import PAGE, RosterPages
from implementor.contracts.errors import InputError, RateLimited
from implementor.store.database import Store


async def test_team_lists_the_roster_with_names_made_safe(wiring: Wiring, store: Store,
                                                         make_interaction: MakeInteraction) -> None:
    cog = wiring.team
    empty = make_interaction()
    await cog.show.callback(cog, empty)  # type: ignore[arg-type, call-arg]
    assert empty.response.private == ["Nobody yet: try /introduce."]
    await store.hire(7, "Ada <@1> Lovelace", "Data Scientist", 7, "cv", b"png", 42)
    await store.hire(7, "Alan *Turing*", "Cryptanalyst", 8, "cv", b"png", 43)
    listed = make_interaction()
    await cog.show.callback(cog, listed)  # type: ignore[arg-type, call-arg]
    [(_, options)] = listed.response.public
    embed = options["embed"]
    assert "1. **Ada <@1> Lovelace**, Data Scientist\n" in embed.description
    assert "2. **Alan \\*Turing\\***, Cryptanalyst · answers requests" in embed.description
    assert options["allowed_mentions"].to_dict() == {"parse": []}  # the <@1> pings nobody


async def test_a_long_roster_pages_for_the_member_who_asked(wiring: Wiring, store: Store,
                                                           make_interaction: MakeInteraction) -> None:
    for i in range(PAGE * 2 + 3):
        await store.hire(7, f"Colleague {i + 1}", "Analyst", i, "cv", b"png", 42)
    asked = make_interaction()
    await wiring.team.show.callback(wiring.team, asked)  # type: ignore[arg-type, call-arg]
    [(_, options)] = asked.response.public
    assert options["embed"].footer.text == f"Page 1 of 3 · {PAGE * 2 + 3} hired"
    pages = options["view"]
    assert isinstance(pages, RosterPages) and pages.previous.disabled and not pages.next.disabled
    assert await pages.interaction_check(make_interaction(user_id=99)) is False  # not theirs to turn
    turned = make_interaction()
    turned.response.edit_message = record = Recorder()  # type: ignore[method-assign, assignment]
    await pages.next.callback(turned)  # type: ignore[call-arg, arg-type]
    await pages.next.callback(turned)  # type: ignore[call-arg, arg-type]
    assert record.calls[-1]["embed"].footer.text.startswith("Page 3 of 3")
    assert "23. **Colleague 23**" in record.calls[-1]["embed"].description and pages.next.disabled


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    async def __call__(self, **kwargs: object) -> None:
        self.calls.append(kwargs)


async def test_switch_and_retire_take_manage_server_and_change_who_answers(wiring: Wiring, store: Store,
                                                                         make_interaction: MakeInteraction) -> None:
    ada = await store.hire(7, "Ada", "Data Scientist", 7, "cv", b"png", 42)
    alan = await store.hire(7, "Alan", "Cryptanalyst", 8, "cv", b"png", 43)
    cog = wiring.team
    with pytest.raises(InputError, match="Manage Server"):
        await cog.switch.callback(cog, make_interaction(), name="Ada")  # type: ignore[arg-type, call-arg]
    await cog.switch.callback(cog, make_interaction(manage_guild=True), name="ada")  # type: ignore[arg-type, call-arg]
    assert (await store.colleague(7)).id == ada.id  # type: ignore[union-attr]
    retiring = make_interaction(manage_guild=True)
    await cog.retire.callback(cog, retiring, name="#1")  # type: ignore[arg-type, call-arg]
    assert retiring.response.public[0][0] == "Ada has retired; Alan answers requests now."
    assert (await store.colleague(7)).id == alan.id  # type: ignore[union-attr]
    await cog.retire.callback(cog, make_interaction(manage_guild=True), name="Alan")  # type: ignore[arg-type, call-arg]
    assert await store.colleague(7) is None and len(await store.roster(7)) == 2  # retired, still on the roster
    with pytest.raises(InputError, match="Nobody called Grace"):
        await cog.switch.callback(cog, make_interaction(manage_guild=True), name="Grace")  # type: ignore[arg-type, call-arg]


async def test_settings_round_trip_and_take_effect(wiring: Wiring, store: Store, make_interaction: MakeInteraction,
                                                   ask: Ask, jobs: FakeJobs) -> None:
    cog = wiring.settings
    with pytest.raises(InputError, match="Manage Server"):
        await cog.settings.callback(cog, make_interaction())  # type: ignore[arg-type, call-arg]
    changed = make_interaction(manage_guild=True)
    await cog.settings.callback(cog, changed, cooldown=5, hire="everyone")  # type: ignore[arg-type, call-arg]
    assert "Saved." in (changed.response.private[0] or "") and "5 s" in (changed.response.private[0] or "")
    shown = make_interaction(manage_guild=True)
    await cog.settings.callback(cog, shown)  # type: ignore[arg-type, call-arg]
    assert "every member" in (shown.response.private[0] or "")
    own = await store.servers.get(7)
    assert (own.cooldown_s, own.who_may_hire, own.explore) == (5, "everyone", None)
    await ask(make_interaction(user_id=41))
    assert jobs.submitted[-1].explore is None  # type: ignore[union-attr]  # the workers' share
    with pytest.raises(RateLimited, match=r"again in [45] s"):  # the server's cooldown, not the bot's 30 s
        await ask(make_interaction(user_id=41))
    off = make_interaction(manage_guild=True)
    await cog.settings.callback(cog, off, explore="off")  # type: ignore[arg-type, call-arg]
    assert "off: always the top draft" in (off.response.private[0] or "")
    await ask(make_interaction(user_id=42))
    assert jobs.submitted[-1].explore == 0.0  # type: ignore[union-attr]  # this server's replies never explore
