"""The buttons, bound as the bot binds them, on results from the wired cogs, the real store and limits."""

from __future__ import annotations

from typing import Any

from bot.app import Wiring
from bot.store import Store
from bot.views import RateButton, may_delete


async def test_rating_why_and_delete_buttons(wiring: Wiring, jobs: Any, store: Store, ask: Any,
                                            make_interaction: Any, settle: Any) -> None:
    buttons = wiring.buttons
    asker = make_interaction(user_id=42)
    await ask(asker)
    await settle()
    job_id = jobs.submitted[0].job_id

    rater = make_interaction(user_id=50)
    await buttons.rate(job_id, 5).callback(rater)
    assert rater.response.messages[0][0] == "Thanks, noted."
    assert (await store.feedback())[0]["rating"] == 5

    why = make_interaction(user_id=51)
    await buttons.why(job_id).callback(why)
    text, options = why.response.messages[0]
    assert options["ephemeral"] and "P(real)" in text and "0.95" in text

    stranger = make_interaction(user_id=99)
    stranger.message = asker.followup.posts[0]
    await buttons.delete(job_id).callback(stranger)
    assert "Only the member who asked" in stranger.response.messages[0][0] and not stranger.message.deleted

    moderator = make_interaction(user_id=98, manage_messages=True)
    moderator.message = asker.followup.posts[0]
    await buttons.delete(job_id).callback(moderator)
    assert moderator.message.deleted


def test_delete_permission_rule(make_interaction: Any) -> None:
    assert may_delete(make_interaction(user_id=1), requester_id=1)
    assert not may_delete(make_interaction(user_id=2), requester_id=1)
    assert may_delete(make_interaction(user_id=2, manage_messages=True), requester_id=1)


async def test_cancel_withdraws_a_queued_job(wiring: Wiring, jobs: Any, store: Store, limits: Any, ask: Any,
                                            make_interaction: Any, settle: Any) -> None:
    jobs.hold.clear()  # the job never finishes on its own
    asker = make_interaction(user_id=42)
    await ask(asker)
    job_id = jobs.submitted[0].job_id
    other = make_interaction(user_id=43)
    await wiring.buttons.cancel(job_id).callback(other)
    assert "Only the member who asked" in other.response.messages[0][0]
    await wiring.buttons.cancel(job_id).callback(asker)
    await settle()
    assert jobs.revoked == [job_id]
    assert (await store.job(job_id)).status == "cancelled"  # type: ignore[union-attr]
    assert asker.followup.sent[0].edits[-1]["content"].startswith("✖️")
    assert await limits.in_flight() == 0  # the slot came back


async def test_regenerate_asks_the_project_cog_again(wiring: Wiring, jobs: Any, store: Store, ask: Any,
                                                    make_interaction: Any, settle: Any) -> None:
    await ask(make_interaction(user_id=42))
    await settle()
    job_id = jobs.submitted[0].job_id
    clicker = make_interaction(user_id=60)
    await wiring.buttons.regenerate(job_id).callback(clicker)
    await settle()
    assert clicker.response.deferred and len(clicker.followup.posts) == 1
    assert [j.request for j in jobs.submitted] == [jobs.submitted[0].request] * 2

    await store.add_job("job-intro-1", "introduce", 7, 500, 42, None)
    await store.finish_job("job-intro-1", "done", {"profile": {"cv": "## Profile\nI count."}})
    refused = make_interaction(user_id=61)
    await wiring.buttons.regenerate("job-intro-1").callback(refused)
    assert "Only project replies" in refused.response.messages[0][0] and len(jobs.submitted) == 2


async def test_an_introduction_recorded_as_persona_is_rated_with_its_cv(wiring: Wiring, store: Store,
                                                                       make_interaction: Any) -> None:
    await store.add_job("job-intro-1", "introduce", 7, 500, 42, None)
    await store.finish_job("job-intro-1", "posted", {"persona": {"cv": "## Profile\nI count."}})  # before `profile`
    await wiring.buttons.rate("job-intro-1", 5).callback(make_interaction(user_id=50))
    [rating] = await store.feedback()
    assert rating["request"] == "introduce yourself" and rating["reply"] == "## Profile\nI count."


async def test_messages_carry_only_the_button_classes_the_bot_registers(wiring: Wiring,
                                                                        make_interaction: Any) -> None:
    # discord.py registers the class of each button a sent message carries, in place of the one registered
    # before: a message carrying an unbound button would leave every later click without its actions.
    buttons = wiring.buttons
    registered = set(buttons.dynamic_items)
    assert len(registered) == 5 and not hasattr(RateButton, "actions")
    views = [buttons.status_view("job-0001"), buttons.result_view("job-0001", "project"),
             buttons.result_view("job-0001", "introduce")]
    assert all(type(item) in registered for view in views for item in view.children)

    match = buttons.rate.__discord_ui_compiled_template__.fullmatch("implementor:rate:job-0001:5")
    clicked = await buttons.rate.from_custom_id(make_interaction(), None, match)  # type: ignore[arg-type]
    assert type(clicked) is buttons.rate and clicked.actions is buttons.actions and clicked.score == 5
