"""/project, with a fake queue and interactions, the real store and limits."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import ImplementorBot
from bot.errors import friendly_message
from contracts.errors import InputError, RateLimited


async def test_project_replies_with_buttons_and_neutralised_text(jobs: Any, ask: Any, make_interaction: Any,
                                                                 settle: Any) -> None:
    interaction = make_interaction()
    await ask(interaction)
    await settle()
    [post] = interaction.followup.posts
    assert "@here" not in post.kwargs["embed"].description
    custom_ids = [item.custom_id for item in post.kwargs["view"].children]
    job_id = jobs.submitted[0].job_id
    assert f"implementor:why:{job_id}" in custom_ids and f"implementor:delete:{job_id}" in custom_ids
    assert f"implementor:rate:{job_id}:5" in custom_ids and f"implementor:regen:{job_id}" in custom_ids


INVALID = ["too short", "x" * 1501, "\u200b\u200b\u200b help \u200b\u200b\u200b\u200b\x07"]


@pytest.mark.parametrize("description", INVALID)
async def test_project_validates_its_input_in_the_handler(jobs: Any, ask: Any, make_interaction: Any,
                                                          description: str) -> None:
    interaction = make_interaction()
    with pytest.raises(InputError, match="10 to 1500 characters"):
        await ask(interaction, description)
    assert not interaction.response.deferred and not jobs.submitted


def test_the_command_declares_its_limits_to_discord(bot: ImplementorBot) -> None:
    command = bot.tree.get_command("project")
    option = command.parameters[0]  # type: ignore[union-attr]
    assert (option.min_value, option.max_value) == (10, 1500)  # sent to Discord as min_length, max_length
    assert {c.name for c in bot.tree.get_commands()} == {"introduce", "team", "project", "ratings"}


async def test_limits_refuse_privately_with_a_retry_time(ask: Any, make_interaction: Any, settle: Any) -> None:
    await ask(make_interaction())
    refused = make_interaction()
    with pytest.raises(RateLimited) as error:
        await ask(refused)
    assert "again in" in friendly_message(error.value)  # type: ignore[operator]
    await settle()
