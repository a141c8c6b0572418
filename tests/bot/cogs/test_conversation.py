"""A follow-up's job: the conversation rebuilt from the book, the same colleague, and plain refusals."""

from __future__ import annotations

import pytest
from bot_fake_client import Ask, MakeInteraction, Settle
from bot_fake_queue import REQUEST, FakeJobs

from implementor.bot.app import Wiring
from implementor.bot.cogs.conversation import conversation_of
from implementor.contracts.errors import InputError
from implementor.contracts.jobs import MAX_TURNS, ProjectJob, Turn
from implementor.store.database import Store


async def test_a_follow_up_carries_the_conversation_in_the_voice_that_answered(
        jobs: FakeJobs, ask: Ask, make_interaction: MakeInteraction, settle: Settle, store: Store,
        wiring: Wiring) -> None:
    hired = await store.hire(7, "Ada Lovelace", "Data Scientist", 7, "## Skills\n- manage data\n", b"png", 42)
    await ask(make_interaction())
    await settle()
    parent = await store.jobs.get(jobs.submitted[0].job_id)
    assert parent is not None and parent.result is not None
    job = await wiring.conversation.job(parent, "What would that cost, roughly?")
    assert job.request == "What would that cost, roughly?" and job.colleague is not None
    assert job.colleague.name == "Ada Lovelace" and not job.hire
    assert [(t.role, t.text) for t in job.history] == [("member", REQUEST),
                                                       ("colleague", parent.result.reply)]  # type: ignore[union-attr]
    # The colleague retires: the conversation cannot go on in their voice, and the member is told so.
    await store.retire(7, hired.id, 42)
    with pytest.raises(InputError, match="Ada Lovelace has retired"):
        await wiring.conversation.job(parent, "What would that cost, roughly?")
    await store.switch(7, hired.id, 42)  # back on the team
    with pytest.raises(InputError, match="10 to 1500"):  # the same bounds as /project
        await wiring.conversation.job(parent, "short")


async def test_a_long_conversation_keeps_its_newest_turns_in_pairs(
        jobs: FakeJobs, ask: Ask, make_interaction: MakeInteraction, settle: Settle, store: Store) -> None:
    await ask(make_interaction())
    await settle()
    parent = await store.jobs.get(jobs.submitted[0].job_id)
    assert parent is not None
    long = tuple(Turn(role="member" if i % 2 == 0 else "colleague", text=f"turn {i}") for i in range(MAX_TURNS))
    queued = ProjectJob(request=REQUEST, history=long)
    turns = conversation_of(type(parent)(**{**parent.__dict__, "job": queued.model_dump_json()}))
    assert len(turns) == MAX_TURNS and turns[0].text == "turn 2" and turns[0].role == "member"
    assert turns[-2].text == REQUEST and turns[-1].role == "colleague"
