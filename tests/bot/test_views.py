"""The buttons under a result (why, rate, delete), bound as the bot binds them, on results posted by the
wired cogs and reconciler over the real store and limits; the classes a message may carry."""

from __future__ import annotations

import json

from bot_fake_client import Ask, FakeChannel, MakeInteraction, Settle
from bot_fake_queue import REQUEST, FakeJobs

from implementor.bot.app import Wiring
from implementor.bot.views import ACTIONS, ActionButton, may_delete
from implementor.contracts.jobs import IntroduceJob, IntroduceResult, ProjectResult
from implementor.store.database import Store


async def test_rating_why_and_delete_buttons_act_on_the_posted_result(
        wiring: Wiring, jobs: FakeJobs, store: Store, ask: Ask, make_interaction: MakeInteraction, settle: Settle,
        channel: FakeChannel) -> None:
    buttons = wiring.buttons
    await ask(make_interaction(user_id=42))
    await settle()
    job_id = jobs.submitted[0].job_id
    [post] = channel.posts

    rater = make_interaction(user_id=50)
    await buttons.rate(job_id, 5).callback(rater)  # type: ignore[arg-type]
    assert rater.response.private == ["Thanks, noted."]
    [rating] = await store.feedback()
    assert rating["rating"] == 5 and rating["reply"] == jobs.reply and rating["request"] == REQUEST
    assert await store.server_feedback(7) == [rating]  # the rating belongs to the server the reply was posted in

    why = make_interaction(user_id=51)
    await buttons.why(job_id).callback(why)  # type: ignore[arg-type]
    [text] = why.response.private
    assert text is not None and "P(real)" in text and "0.95" in text

    stranger = make_interaction(user_id=99)
    stranger.message = post
    await buttons.delete(job_id).callback(stranger)  # type: ignore[arg-type]
    assert "Only the member who asked" in (stranger.response.private[0] or "") and not post.deleted

    moderator = make_interaction(user_id=98, manage_messages=True)
    moderator.message = post
    await buttons.delete(job_id).callback(moderator)  # type: ignore[arg-type]
    record = await store.jobs.get(job_id)
    assert post.deleted and record is not None and record.status == "deleted"
    assert isinstance(record.result, ProjectResult) and record.result.candidates == []  # the drafts go with it
    assert record.result.reply == jobs.reply


def test_the_member_who_asked_or_a_moderator_may_delete(make_interaction: MakeInteraction) -> None:
    assert may_delete(make_interaction(user_id=1), requester_id=1)  # type: ignore[arg-type]
    assert not may_delete(make_interaction(user_id=2), requester_id=1)  # type: ignore[arg-type]
    assert may_delete(make_interaction(user_id=2, manage_messages=True), requester_id=1)  # type: ignore[arg-type]


async def test_a_button_for_a_job_not_on_record_says_so_privately(wiring: Wiring,
                                                                  make_interaction: MakeInteraction) -> None:
    clicker = make_interaction()
    await wiring.buttons.why("job-unknown-1").callback(clicker)  # type: ignore[arg-type]
    assert clicker.response.private == ["I no longer have that job on record."] and clicker.response.public == []


# An introduction's result as the book kept it before `persona` became `profile` (git show 2f8155e:workers/schemas.py).
OLD_RESULT = json.dumps({"job_id": "job-intro-1", "status": "ok", "error": None, "attempts": 1, "timings_ms": {},
                         "kind": "introduce", "persona": {"name": "Ada Lovelace", "title": "Data Scientist", "seed": 7,
                                                          "cv": "## Profile\nI count.", "png_base64": "iVBORw0K"},
                         "candidates": [], "low_confidence": False})


async def test_an_introduction_recorded_as_persona_is_rated_with_its_cv(wiring: Wiring, store: Store,
                                                                       make_interaction: MakeInteraction) -> None:
    await store.jobs.add(IntroduceJob(job_id="job-intro-1"), 7, 500, 42)
    await store.db.execute("UPDATE jobs SET status = 'posted', message_id = 111, result = ? WHERE job_id = ?",
                           (OLD_RESULT, "job-intro-1"))  # as the bot of that version left it
    await store.db.commit()
    record = await store.jobs.get("job-intro-1")
    assert isinstance(record.result, IntroduceResult) and record.result.profile is not None  # type: ignore[union-attr]
    await wiring.buttons.rate("job-intro-1", 5).callback(make_interaction(user_id=50))  # type: ignore[arg-type]
    [rating] = await store.feedback()
    assert rating["request"] == "introduce yourself" and rating["reply"] == "## Profile\nI count."


async def test_messages_carry_only_the_button_classes_the_bot_registers(wiring: Wiring,
                                                                        make_interaction: MakeInteraction) -> None:
    # discord.py registers the class of each button a sent message carries, in place of the one registered
    # before: a message carrying an unbound button would leave every later click without its actions.
    buttons = wiring.buttons
    registered = set(buttons.dynamic_items)
    assert registered == {buttons.item} and not hasattr(ActionButton, "actions")
    views = [buttons.status_view("job-0001"), buttons.result_view("job-0001", "project"),
             buttons.result_view("job-0001", "introduce")]
    assert all(type(item) in registered for view in views for item in view.children)

    match = buttons.item.__discord_ui_compiled_template__.fullmatch("implementor:rate:job-0001:5")
    clicked = await buttons.item.from_custom_id(make_interaction(), None, match)  # type: ignore[arg-type]
    assert type(clicked) is buttons.item and clicked.actions is buttons.actions and clicked.score == 5


async def test_every_message_the_bot_sends_carries_only_registered_buttons(
        wiring: Wiring, ask: Ask, introduce: Ask, make_interaction: MakeInteraction, settle: Settle,
        channel: FakeChannel) -> None:
    # The introduction first: a /project on a server with nobody hired hires its colleague, one hire at a time.
    await introduce(make_interaction(user_id=42))
    await ask(make_interaction(user_id=41))
    await settle()
    registered = set(wiring.buttons.dynamic_items)
    carried = [item for m in channel.messages for view in [m.kwargs.get("view")] if view is not None
               for item in getattr(view, "children", [])]
    assert carried and all(type(item) in registered for item in carried)


async def test_every_action_comes_back_from_its_custom_id_and_only_a_rating_has_a_score(
        wiring: Wiring, make_interaction: MakeInteraction) -> None:
    buttons = wiring.buttons
    sent = [buttons.cancel("job-0001"), buttons.why("job-0001"), buttons.rate("job-0001", 1),
            buttons.delete("job-0001"), buttons.regenerate("job-0001"), buttons.follow("job-0001")]
    assert {b.action for b in sent} == set(ACTIONS)
    template = buttons.item.__discord_ui_compiled_template__
    for button in sent:
        match = template.fullmatch(button.custom_id)
        clicked = await buttons.item.from_custom_id(make_interaction(), None, match)  # type: ignore[arg-type]
        assert (clicked.action, clicked.job_id, clicked.score) == (button.action, "job-0001", button.score)
        assert clicked.item.label == button.item.label and clicked.item.emoji == button.item.emoji
    for forged in ("implementor:rate:job-0001", "implementor:why:job-0001:5", "implementor:rate:job-0001:6",
                   "implementor:launch:job-0001"):
        assert template.fullmatch(forged) is None, forged
