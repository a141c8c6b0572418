"""/learn: only an admin chooses where the colleague learns, and says so in the channel; any member can opt
out, which deletes their ratings at once and has the learner remove their harvested messages; /learn status
shows what was read."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from bot_fake_client import Channels, FakeChannel, MakeInteraction
from bot_fake_queue import FakeJobs

from implementor.bot.app import Wiring
from implementor.config.settings import Settings
from implementor.contracts.errors import InputError
from implementor.learning.optouts import apply_optouts
from implementor.store import versions
from implementor.store.database import Store
from implementor.store.datasets import PAIRS, TEXTS, harvest_dir, read_rows

MEMBER, OTHER = 42, 43


async def test_only_an_admin_enables_learning_and_the_channel_is_told(
        wiring: Wiring, store: Store, jobs: FakeJobs, make_interaction: MakeInteraction, channel: FakeChannel) -> None:
    cog = wiring.learn
    member = make_interaction(user_id=MEMBER)
    with pytest.raises(InputError, match="Manage Server"):
        await cog.enable.callback(cog, member)  # type: ignore[arg-type, call-arg]
    assert await store.learning.channels() == [] and jobs.harvests_requested == 0

    admin = make_interaction(user_id=1)
    admin.permissions.manage_guild = True
    await cog.enable.callback(cog, admin)  # type: ignore[arg-type, call-arg]
    assert admin.response.private == ["Done: I learn from <#500>, and told its members there."]
    [told] = channel.messages
    assert told.content is not None and "learn from this channel" in told.content and "/learn optout" in told.content
    assert told.kwargs["allowed_mentions"].to_dict() == {"parse": []}
    [enabled] = await store.learning.channels(7, enabled_only=True)
    assert (enabled.channel_id, enabled.changed_by) == (channel.id, 1)
    assert jobs.harvests_requested == 1  # the learner reads it now, not at the next scheduled run

    await cog.disable.callback(cog, admin)  # type: ignore[arg-type, call-arg]
    assert await store.learning.channels(7, enabled_only=True) == []
    assert [e["action"] for e in await store.learning.log()] == ["disable", "enable"]  # who and when, on record


async def test_enabling_another_channel_is_announced_there_and_confirmed_privately(
        wiring: Wiring, store: Store, make_interaction: MakeInteraction, channels: Channels,
        channel: FakeChannel) -> None:
    cog = wiring.learn
    admin = make_interaction(user_id=1)
    admin.permissions.manage_guild = True
    other = channels[600]
    await cog.enable.callback(cog, admin, SimpleNamespace(id=600))  # type: ignore[arg-type, call-arg]
    [told] = other.messages
    assert told.content is not None and "<@1> let me learn from this channel" in told.content
    assert channel.messages == [] and admin.response.public == []  # nothing where the command was typed
    assert admin.response.private == ["Done: I learn from <#600>, and told its members there."]
    [enabled] = await store.learning.channels(7, enabled_only=True)
    assert enabled.channel_id == 600

    await cog.disable.callback(cog, admin, SimpleNamespace(id=600))  # type: ignore[arg-type, call-arg]
    assert "no longer learn from this channel" in (other.messages[-1].content or "") and channel.messages == []


async def test_a_channel_that_cannot_be_told_is_not_read(wiring: Wiring, store: Store,
                                                         make_interaction: MakeInteraction, channels: Channels) -> None:
    cog = wiring.learn
    admin = make_interaction(user_id=1)
    admin.permissions.manage_guild = True
    channels[600].refuse(True)  # no Send Messages there
    with pytest.raises(InputError, match="cannot post in <#600>"):
        await cog.enable.callback(cog, admin, SimpleNamespace(id=600))  # type: ignore[arg-type, call-arg]
    assert await store.learning.channels() == []


async def test_opting_out_deletes_the_ratings_and_has_the_learner_remove_the_harvested_rows(
        wiring: Wiring, store: Store, settings: Settings, jobs: FakeJobs, make_interaction: MakeInteraction) -> None:
    folder = harvest_dir(settings.learning_dir)
    folder.mkdir(parents=True)
    pairs = [{"message_id": 1, "request_author": MEMBER, "reply_author": OTHER},
             {"message_id": 2, "request_author": OTHER, "reply_author": MEMBER},
             {"message_id": 3, "request_author": OTHER, "reply_author": 44}]
    texts = [{"message_id": 4, "author": MEMBER, "context_author": None},
             {"message_id": 5, "author": OTHER, "context_author": MEMBER},
             {"message_id": 6, "author": OTHER, "context_author": 44}]
    (folder / PAIRS).write_text("".join(json.dumps(r) + "\n" for r in pairs))
    (folder / TEXTS).write_text("".join(json.dumps(r) + "\n" for r in texts))
    await store.rate("job-a", MEMBER, "Help?", "Yes.", 5, guild_id=7)  # a rating the member gave
    await store.rate("job-b", OTHER, "Help?", "Yes.", 1, guild_id=7)  # a rating someone else gave
    await store.db.execute("INSERT INTO jobs (job_id, kind, channel_id, user_id, request, status, created_at) "
                           "VALUES ('job-c', 'project', 500, ?, 'my request', 'posted', 0)", (MEMBER,))
    # a rating of a reply to the member's request
    await store.rate("job-c", OTHER, "my request", "Yes.", 4, guild_id=7)

    cog = wiring.learn
    interaction = make_interaction(user_id=MEMBER)
    await cog.optout.callback(cog, interaction)  # type: ignore[arg-type, call-arg]
    [text] = interaction.response.private
    assert text is not None and "deleted your 2 ratings and draft choices" in text
    assert "being removed from the learning sets (now)" in text
    assert [(r["job_id"], r["who"]) for r in await store.feedback()] == [("job-b", str(OTHER))]
    assert await store.learning.opted_out() == {MEMBER} and jobs.forgets_requested == 1
    # The bot holds no learning volume: the rows are the learner's to remove, and it finds the member pending.
    assert len(read_rows(folder / PAIRS)) == 3
    assert await apply_optouts(store.learning, settings.learning_dir) == {MEMBER: 4}
    assert [r["message_id"] for r in read_rows(folder / PAIRS)] == [3]
    assert [r["message_id"] for r in read_rows(folder / TEXTS)] == [6]
    assert await apply_optouts(store.learning, settings.learning_dir) == {}  # recorded as done

    back = make_interaction(user_id=MEMBER)
    await cog.optin.callback(cog, back)  # type: ignore[arg-type, call-arg]
    assert await store.learning.opted_out() == set()


async def test_an_optout_the_learner_could_not_be_told_of_is_applied_by_the_next_cycle(
        wiring: Wiring, store: Store, settings: Settings, jobs: FakeJobs, make_interaction: MakeInteraction) -> None:
    folder = harvest_dir(settings.learning_dir)
    folder.mkdir(parents=True)
    (folder / TEXTS).write_text(json.dumps({"message_id": 4, "author": MEMBER, "context_author": None}) + "\n")
    cog = wiring.learn
    jobs.down = True
    interaction = make_interaction(user_id=MEMBER)
    await cog.optout.callback(cog, interaction)  # type: ignore[arg-type, call-arg]
    [text] = interaction.response.private
    assert text is not None and "(at the next learning cycle)" in text and jobs.forgets_requested == 0
    assert await store.learning.optouts_to_apply() == [MEMBER]
    await store.learning.set_channel(7, 500, True, by=1)  # other consent changes leave the pending removal alone
    assert await apply_optouts(store.learning, settings.learning_dir) == {MEMBER: 1}
    assert read_rows(folder / TEXTS) == []
    # Back in, then out again: a new opt-out is pending again, whatever was removed before.
    await store.learning.opt_in(MEMBER)
    assert await store.learning.optouts_to_apply() == []
    await store.learning.opt_out(MEMBER)
    assert await store.learning.optouts_to_apply() == [MEMBER]


async def test_status_shows_each_channels_harvest_and_the_live_versions(
        wiring: Wiring, store: Store, settings: Settings, make_interaction: MakeInteraction, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await store.learning.set_channel(7, 500, True, by=1)
    await store.learning.advance(7, 500, 999, {"read": 12, "kept: pairs": 3, "kept: texts": 5, "dropped: bot": 4})
    assert settings.models_dir is not None
    head = tmp_path / "head"
    head.mkdir()
    (head / "card.json").write_text(json.dumps({"learning": {"held_out": {"spearman": 0.41}}}))
    versions.promote(settings.models_dir, "quality", versions.add(settings.models_dir, "quality", head), "test")

    cog = wiring.learn
    interaction = make_interaction()
    await cog.status.callback(cog, interaction)  # type: ignore[arg-type, call-arg]
    [text] = interaction.response.private
    assert text is not None
    assert "<#500>: learning (set by <@1>" in text and "read 12, kept 3 pairs and 5 texts, dropped 4" in text
    assert "Live quality head: v0001 ({'spearman': 0.41})" in text and "Live realism head: the configured one" in text
