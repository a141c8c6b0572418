"""Every cog, driven with fake interactions and channels, a fake job queue and the real store and limits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.app import ImplementorBot
from bot.errors import friendly_message
from bot.limits import RateLimited
from bot.views import DeleteButton, RateButton, WhyButton, may_delete
from config.errors import InputError

REQUEST = "Could someone help us plan the spring launch at Acme?"


async def settle(bot: ImplementorBot) -> None:
    """Let the background job followers finish."""
    for _ in range(200):
        if not bot.runner.running:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("jobs still running")


def embeds(interaction: Any) -> list[Any]:
    return [m for m in interaction.followup.sent if "embed" in m.kwargs]


async def test_introduce_hires_once_then_shows_the_same_colleague(bot: ImplementorBot, make_interaction) -> None:  # type: ignore[no-untyped-def]
    cog = bot.get_cog("Introduce")
    first = make_interaction()
    await cog.introduce.callback(cog, first, new=False)  # type: ignore[union-attr]
    assert first.response.deferred
    await settle(bot)
    assert len(bot.jobs.submitted) == 1  # type: ignore[attr-defined]
    [post] = embeds(first)
    assert post.kwargs["embed"].title == "Ada Lovelace"
    assert post.kwargs["files"][0].filename == "face.png"
    assert post.kwargs["allowed_mentions"].to_dict() == {"parse": []}  # nobody may be pinged
    status = first.followup.sent[0]
    assert status.content.startswith("⏳ Queued: number 3 in the queue")  # two waiting, plus this one
    assert status.edits[-1]["content"].startswith("✅")

    await bot.limits.give_back(42, "x")  # (no slot to give; cooldown still applies to 42)
    again = make_interaction(user_id=43)
    await cog.introduce.callback(cog, again, new=False)  # type: ignore[union-attr]
    assert len(bot.jobs.submitted) == 1  # shown from the store: no new job
    assert embeds(again)[0].kwargs["embed"].title == "Ada Lovelace"

    hire = make_interaction(user_id=44)
    await cog.introduce.callback(cog, hire, new=True)  # type: ignore[union-attr]
    await settle(bot)
    assert len(bot.jobs.submitted) == 2 and len(await bot.store.roster(7)) == 2


async def test_team_lists_the_roster(bot: ImplementorBot, make_interaction) -> None:  # type: ignore[no-untyped-def]
    cog = bot.get_cog("Team")
    empty = make_interaction()
    await cog.team.callback(cog, empty)  # type: ignore[union-attr]
    assert "Nobody yet" in empty.response.messages[0][0]
    await bot.store.hire(7, "Ada <@1> Lovelace", "Data Scientist", 7, "cv", b"png", 42)
    listed = make_interaction()
    await cog.team.callback(cog, listed)  # type: ignore[union-attr]
    embed = listed.response.messages[0][1]["embed"]
    assert "Data Scientist" in embed.description


async def test_project_replies_with_buttons_and_neutralised_text(bot: ImplementorBot, make_interaction) -> None:  # type: ignore[no-untyped-def]
    cog = bot.get_cog("Project")
    interaction = make_interaction()
    await cog.project.callback(cog, interaction, description=REQUEST)  # type: ignore[union-attr]
    await settle(bot)
    [post] = embeds(interaction)
    assert "@here" not in post.kwargs["embed"].description
    custom_ids = [item.custom_id for item in post.kwargs["view"].children]
    job_id = bot.jobs.submitted[0].job_id  # type: ignore[attr-defined]
    assert f"implementor:why:{job_id}" in custom_ids and f"implementor:delete:{job_id}" in custom_ids
    assert f"implementor:rate:{job_id}:5" in custom_ids and f"implementor:regen:{job_id}" in custom_ids


INVALID = ["too short", "x" * 1501, "\u200b\u200b\u200b help \u200b\u200b\u200b\u200b\x07"]


@pytest.mark.parametrize("description", INVALID)
async def test_project_validates_its_input_in_the_handler(bot: ImplementorBot, make_interaction,  # type: ignore[no-untyped-def]
                                                          description: str) -> None:
    cog = bot.get_cog("Project")
    interaction = make_interaction()
    with pytest.raises(InputError, match="10 to 1500 characters"):
        await cog.project.callback(cog, interaction, description=description)  # type: ignore[union-attr]
    assert not interaction.response.deferred and not bot.jobs.submitted  # type: ignore[attr-defined]


def test_the_command_declares_its_limits_to_discord(bot: ImplementorBot) -> None:
    command = bot.tree.get_command("project")
    option = command.parameters[0]  # type: ignore[union-attr]
    assert (option.min_value, option.max_value) == (10, 1500)  # sent to Discord as min_length, max_length
    assert {c.name for c in bot.tree.get_commands()} == {"introduce", "team", "project", "ratings"}


async def test_limits_refuse_privately_with_a_retry_time(bot: ImplementorBot, make_interaction) -> None:  # type: ignore[no-untyped-def]
    cog = bot.get_cog("Project")
    await cog.project.callback(cog, make_interaction(), description=REQUEST)  # type: ignore[union-attr]
    refused = make_interaction()
    with pytest.raises(RateLimited) as error:
        await cog.project.callback(cog, refused, description=REQUEST)  # type: ignore[union-attr]
    assert "again in" in friendly_message(error.value)  # type: ignore[operator]
    await settle(bot)


async def test_rating_why_and_delete_buttons(bot: ImplementorBot, make_interaction) -> None:  # type: ignore[no-untyped-def]
    cog = bot.get_cog("Project")
    asker = make_interaction(user_id=42)
    await cog.project.callback(cog, asker, description=REQUEST)  # type: ignore[union-attr]
    await settle(bot)
    job_id = bot.jobs.submitted[0].job_id  # type: ignore[attr-defined]

    rater = make_interaction(user_id=50)
    await RateButton(job_id, 5).callback(rater)
    assert rater.response.messages[0][0] == "Thanks, noted."
    assert (await bot.store.feedback())[0]["rating"] == 5

    why = make_interaction(user_id=51)
    await WhyButton(job_id).callback(why)
    text, options = why.response.messages[0]
    assert options["ephemeral"] and "P(real)" in text and "0.95" in text

    stranger = make_interaction(user_id=99)
    stranger.message = embeds(asker)[0]
    await DeleteButton(job_id).callback(stranger)
    assert "Only the member who asked" in stranger.response.messages[0][0] and not stranger.message.deleted

    moderator = make_interaction(user_id=98, manage_messages=True)
    moderator.message = embeds(asker)[0]
    await DeleteButton(job_id).callback(moderator)
    assert moderator.message.deleted


def test_delete_permission_rule(make_interaction) -> None:  # type: ignore[no-untyped-def]
    assert may_delete(make_interaction(user_id=1), requester_id=1)
    assert not may_delete(make_interaction(user_id=2), requester_id=1)
    assert may_delete(make_interaction(user_id=2, manage_messages=True), requester_id=1)


async def test_cancel_withdraws_a_queued_job(bot: ImplementorBot, make_interaction) -> None:  # type: ignore[no-untyped-def]
    from bot.views import CancelButton

    bot.jobs.hold.clear()  # type: ignore[attr-defined]  # the job never finishes on its own
    cog = bot.get_cog("Project")
    asker = make_interaction(user_id=42)
    await cog.project.callback(cog, asker, description=REQUEST)  # type: ignore[union-attr]
    job_id = bot.jobs.submitted[0].job_id  # type: ignore[attr-defined]
    other = make_interaction(user_id=43)
    await CancelButton(job_id).callback(other)
    assert "Only the member who asked" in other.response.messages[0][0]
    await CancelButton(job_id).callback(asker)
    await settle(bot)
    assert bot.jobs.revoked == [job_id]  # type: ignore[attr-defined]
    assert (await bot.store.job(job_id)).status == "cancelled"  # type: ignore[union-attr]
    assert asker.followup.sent[0].edits[-1]["content"].startswith("✖️")
    assert await bot.limits.in_flight() == 0  # the slot came back


async def test_the_text_trigger_introduces(bot: ImplementorBot, make_channel) -> None:  # type: ignore[no-untyped-def]
    class Message:
        def __init__(self, content: str) -> None:
            self.content, self.channel, self.mentions = content, make_channel(), [bot_user]
            self.author = type("Author", (), {"bot": False, "id": 42})()
            self.guild = type("Guild", (), {"id": 7})()
            self.replies: list[str] = []

        async def reply(self, text: str, **kwargs: Any) -> None:
            self.replies.append(text)

    bot_user = object()
    bot._connection.user = bot_user  # type: ignore[assignment]  # what login would set
    cog = bot.get_cog("Introduce")
    ignored = Message("hello there")
    await cog.on_message(ignored)  # type: ignore[union-attr]
    assert not bot.jobs.submitted  # type: ignore[attr-defined]
    message = Message("<@1> please introduce yourself!")
    await cog.on_message(message)  # type: ignore[union-attr]
    await settle(bot)
    assert len(bot.jobs.submitted) == 1  # type: ignore[attr-defined]
    assert any("embed" in m.kwargs for m in message.channel.sent)
