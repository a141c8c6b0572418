"""/project, with the fake queue and Discord, the real store and limits: the reply, its buttons and its
safety; the description checked before anything is touched; the limits declared to Discord; refusals
kept private; the reply in the voice of the server's colleague."""

from __future__ import annotations

import pytest
from bot_fake_client import Ask, FakeChannel, MakeInteraction, Settle, texts
from bot_fake_queue import REQUEST, FakeJobs

from implementor.bot.app import ImplementorBot
from implementor.bot.errors import friendly_message
from implementor.bot.limits import Limits
from implementor.contracts.errors import InputError, RateLimited
from implementor.contracts.jobs import ProjectJob
from implementor.store.database import Store


async def test_project_replies_with_buttons_and_neutralised_text(
        jobs: FakeJobs, ask: Ask, make_interaction: MakeInteraction, settle: Settle, channel: FakeChannel) -> None:
    await ask(make_interaction())
    await settle()
    [post] = channel.posts
    assert post.embed is not None and "@here" not in (post.embed.description or "")
    job_id = jobs.submitted[0].job_id
    assert set(post.custom_ids) >= {f"implementor:why:{job_id}", f"implementor:delete:{job_id}",
                                    f"implementor:rate:{job_id}:5", f"implementor:regen:{job_id}"}
    assert all("@here" not in text and "@everyone" not in text for text in texts(channel))
    # The one ping: the result's text names the member who asked, and mentions allow that member only.
    assert post.content == "<@42>, The Implementor answered your request."
    assert post.kwargs["allowed_mentions"].to_dict() == {"parse": [], "users": [42]}
    assert all(m.kwargs["allowed_mentions"].to_dict() == {"parse": []} for m in channel.messages if m is not post)
    assert (post.embed.description or "").startswith("> ")  # the request, quoted above its answer
    assert all(e["allowed_mentions"].to_dict() == {"parse": []} for m in channel.messages for e in m.edits)


INVALID = ["too short", "x" * 1501, "\u200b\u200b\u200b help \u200b\u200b\u200b\u200b\x07"]


@pytest.mark.parametrize("description", INVALID)
async def test_project_checks_its_description_before_anything_is_touched(
        jobs: FakeJobs, store: Store, limits: Limits, ask: Ask, make_interaction: MakeInteraction,
        channel: FakeChannel, description: str) -> None:
    interaction = make_interaction()
    with pytest.raises(InputError, match="10 to 1500 characters"):
        await ask(interaction, description)
    assert interaction.response.messages == [] and channel.messages == [] and not jobs.submitted
    assert await store.jobs.open_jobs() == [] and await limits.in_flight() == 0
    await ask(make_interaction())  # no cooldown was started either


def test_the_command_declares_its_limits_to_discord(bot: ImplementorBot) -> None:
    command = bot.tree.get_command("project")
    option = command.parameters[0]  # type: ignore[union-attr]
    assert (option.min_value, option.max_value) == (10, 1500)  # sent to Discord as min_length, max_length
    assert {c.name for c in bot.tree.get_commands()} == {"introduce", "team", "project", "ratings", "learn", "settings",
                                                             "help"}


async def test_limits_refuse_privately_with_a_retry_time(ask: Ask, make_interaction: MakeInteraction,
                                                        channel: FakeChannel, settle: Settle) -> None:
    await ask(make_interaction())
    refused = make_interaction()
    with pytest.raises(RateLimited) as error:
        await ask(refused)
    assert "again in" in (friendly_message(error.value) or "") and error.value.retry_after > 0
    assert refused.response.messages == [] and len(channel.messages) == 1  # only the first request's status
    await settle()


async def test_a_reply_is_written_and_posted_in_the_name_of_the_servers_colleague(
        jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction, settle: Settle,
        channel: FakeChannel) -> None:
    cv = "## Profile\nI plan.\n\n## Skills\n- planning\n- budgets\n\n## Experience\n- Planner\n\n## Education\n- BA"
    hired = await store.hire(7, "Grace Hopper", "Programmer", 9, cv, b"png", hired_by=42, job_id="job-hire-1")
    await ask(make_interaction())
    [job] = jobs.submitted
    assert isinstance(job, ProjectJob) and job.request == REQUEST
    assert job.colleague is not None and job.colleague.name == "Grace Hopper"
    record = await store.jobs.get(job.job_id)
    assert record is not None and record.colleague_id == hired.id

    await store.hire(7, "Alan Turing", "Cryptanalyst", 8, cv, b"png", hired_by=43)  # hired while it ran
    await settle()
    [post] = channel.posts
    assert post.embed is not None and (post.embed.author.name or "").startswith("Grace Hopper · Programmer")
