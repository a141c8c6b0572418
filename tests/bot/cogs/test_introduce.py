"""/introduce and "@Implementor introduce yourself", with the fake queue and Discord, the real store and
limits: the first call hires (a job), later calls show the same colleague from the store."""

from __future__ import annotations

import asyncio

import pytest
from bot_fake_client import BOT_USER, Ask, FakeChannel, FakeMemberMessage, MakeInteraction, Settle
from bot_fake_queue import FakeJobs

from implementor.bot.app import Wiring
from implementor.bot.errors import PUBLIC_REFUSAL_S
from implementor.contracts.errors import InputError
from implementor.store.database import Store


async def test_introduce_hires_once_then_shows_the_same_colleague(
        jobs: FakeJobs, store: Store, introduce: Ask, make_interaction: MakeInteraction, settle: Settle,
        channel: FakeChannel) -> None:
    first = make_interaction()
    await introduce(first)
    [(status_text, _)] = first.response.public
    assert (status_text or "").startswith("⏳ Queued: number 1 in the queue")
    await settle()
    assert len(jobs.submitted) == 1
    [post] = channel.posts
    assert post.embed is not None and post.embed.title == "Ada Lovelace"
    assert post.kwargs["files"][0].filename == "face.png"
    # nobody may be pinged but the member who asked, once, by the result's text
    assert post.kwargs["allowed_mentions"].to_dict() == {"parse": [], "users": [42]}
    assert post.content == "<@42>, meet Ada Lovelace, your new colleague."
    assert [m for m in channel.left] == [post]  # one message per request: the status went
    assert channel.statuses[0].deleted
    assert [c.name for c in await store.roster(7)] == ["Ada Lovelace"]

    again = make_interaction(user_id=43)
    await introduce(again)
    assert len(jobs.submitted) == 1  # shown from the store: no new job
    [(_, shown)] = again.response.public
    assert shown["embeds"][0].title == "Ada Lovelace" and shown["file"].filename == "face.png"

    with pytest.raises(InputError, match="Manage Server"):  # replacing the colleague who answers everyone
        await introduce(make_interaction(user_id=44), new=True)
    assert len(jobs.submitted) == 1
    await introduce(make_interaction(user_id=44, manage_guild=True), new=True)
    await settle()
    assert len(jobs.submitted) == 2 and len(await store.roster(7)) == 2
    assert (await store.colleague(7)).position == 2  # type: ignore[union-attr]  # the new hire answers now


async def test_a_server_can_let_every_member_hire(introduce: Ask, make_interaction: MakeInteraction, store: Store,
                                                  jobs: FakeJobs, settle: Settle) -> None:
    await introduce(make_interaction())
    await settle()
    await store.servers.change(7, 1, hire="everyone")
    await introduce(make_interaction(user_id=44), new=True)
    assert len(jobs.submitted) == 2


async def test_a_new_hire_takes_a_name_title_and_seed_checked(introduce: Ask, make_interaction: MakeInteraction,
                                                              jobs: FakeJobs) -> None:
    for bad, why in ((dict(name="<@1> Eve"), "name: use letters"), (dict(title="**Boss**"), "title: use letters")):
        with pytest.raises(InputError, match=why):
            await introduce(make_interaction(manage_guild=True), **bad)
    assert not jobs.submitted
    await introduce(make_interaction(), name="Ada Lovelace", title="Data Scientist", seed=7)
    [job] = jobs.submitted
    assert (job.name, job.title, job.seed) == ("Ada Lovelace", "Data Scientist", 7)  # type: ignore[union-attr]


async def test_two_members_asking_at_once_on_a_fresh_server_hire_one(introduce: Ask, jobs: FakeJobs,
                                                                    make_interaction: MakeInteraction,
                                                                    settle: Settle, store: Store) -> None:
    jobs.hold = True
    first, second = make_interaction(user_id=41), make_interaction(user_id=43)
    results = await asyncio.gather(introduce(first), introduce(second), return_exceptions=True)
    refused = [r for r in results if isinstance(r, InputError)]
    assert len(refused) == 1 and "being hired here already" in str(refused[0]) and len(jobs.submitted) == 1
    jobs.release()
    await settle()
    assert len(await store.roster(7)) == 1


async def test_introduce_in_direct_messages_is_refused(introduce: Ask, make_interaction: MakeInteraction,
                                                       jobs: FakeJobs) -> None:
    with pytest.raises(InputError, match="in servers"):
        await introduce(make_interaction(guild_id=None))
    assert not jobs.submitted


async def test_the_text_trigger_introduces(wiring: Wiring, jobs: FakeJobs, channel: FakeChannel,
                                           settle: Settle) -> None:
    cog = wiring.introduce
    await cog.on_message(FakeMemberMessage(channel, "hello there", [BOT_USER]))  # type: ignore[arg-type]
    await cog.on_message(FakeMemberMessage(channel, "introduce yourself", []))  # type: ignore[arg-type]
    assert not jobs.submitted  # no trigger, or not addressed to the bot

    message = FakeMemberMessage(channel, "<@900> please introduce yourself!", [BOT_USER])
    await cog.on_message(message)  # type: ignore[arg-type]
    [reply] = message.replies
    assert (reply.content or "").startswith("⏳ Queued") and reply.custom_ids  # the status, with Cancel
    await settle()
    assert len(jobs.submitted) == 1 and len(channel.posts) == 1 and reply.deleted

    shown = FakeMemberMessage(channel, "<@900> introduce yourself", [BOT_USER], user_id=43)
    await cog.on_message(shown)  # type: ignore[arg-type]
    assert len(jobs.submitted) == 1 and len(channel.posts) == 2  # from the store


async def test_a_refused_text_trigger_is_answered_privately_with_the_reason(wiring: Wiring, jobs: FakeJobs,
                                                                  channel: FakeChannel) -> None:
    jobs.hold = True
    cog = wiring.introduce
    await cog.on_message(FakeMemberMessage(channel, "<@900> introduce yourself", [BOT_USER]))  # type: ignore[arg-type]
    refused = FakeMemberMessage(channel, "<@900> introduce yourself", [BOT_USER])
    await cog.on_message(refused)  # type: ignore[arg-type]
    [dm] = refused.author.dms  # privately: nothing in the channel
    assert "being hired here already" in (dm or "") and refused.replies == [] and len(jobs.submitted) == 1

    closed = FakeMemberMessage(channel, "<@900> introduce yourself", [BOT_USER], dms_open=False)
    await cog.on_message(closed)  # type: ignore[arg-type]
    [reply] = closed.replies  # DMs closed: a reply that deletes itself
    assert "being hired" in (reply.content or "") and reply.kwargs["delete_after"] == PUBLIC_REFUSAL_S
    assert reply.kwargs["allowed_mentions"].to_dict() == {"parse": []}
