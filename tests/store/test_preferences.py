"""Members' choices among a reply's drafts: the book shows the chosen draft, the choice is kept, opt-out forgets it."""

from __future__ import annotations

from implementor.contracts.jobs import ProjectJob, ProjectResult
from implementor.contracts.scores import CandidateScore
from implementor.contracts.states import JobState
from implementor.store.database import Store

REQUEST = "Could someone help us plan the spring launch?"


def _candidate(text: str, chosen: bool) -> CandidateScore:
    return CandidateScore(text=text, p_real=0.95, quality=3.0, chosen=chosen, reason="realistic")


async def _posted(store: Store, user_id: int = 42) -> str:
    job = ProjectJob(request=REQUEST)
    await store.jobs.add(job, 7, 500, user_id)
    result = ProjectResult(job_id=job.job_id, status="ok", reply="Draft one.",
                           candidates=[_candidate("Draft one.", True), _candidate("Draft two.", False)])
    await store.jobs.store_result(job.job_id, result)
    assert await store.jobs.claim_post(job.job_id)
    await store.jobs.mark_posted(job.job_id, 9001)
    return job.job_id


async def test_a_chosen_draft_becomes_the_reply_and_the_choice_is_kept(store: Store) -> None:
    job_id = await _posted(store)
    shown = await store.jobs.show_draft(job_id, "Draft two.")
    assert shown is not None and shown.reply == "Draft two."
    assert [c.chosen for c in shown.candidates] == [False, True]
    record = await store.jobs.get(job_id)
    assert record is not None and record.result == shown and record.status is JobState.POSTED
    assert (await store.jobs.answered_as(9001)) == record  # the message it was posted as names it
    assert await store.jobs.show_draft(job_id, "A draft it never made.") is None
    await store.preferences.record(job_id, 42, 7, REQUEST, "Draft one.", "Draft two.")
    await store.preferences.record(job_id, 43, 7, REQUEST, "Draft two.", "Draft one.")  # a swap back: its own
    kept = await store.preferences.all(job_id)
    assert [(p.user_id, p.shown, p.chosen) for p in kept] == [(42, "Draft one.", "Draft two."),
                                                              (43, "Draft two.", "Draft one.")]
    assert kept[0].row()["who"] == 42 and kept[0].row()["key"] != kept[1].row()["key"]


async def test_opting_out_forgets_the_choices_a_member_made_and_those_on_their_requests(store: Store) -> None:
    theirs, others = await _posted(store, user_id=42), await _posted(store, user_id=50)
    await store.preferences.record(theirs, 43, 7, REQUEST, "Draft one.", "Draft two.")  # on their request
    await store.preferences.record(others, 42, 7, REQUEST, "Draft one.", "Draft two.")  # made by them
    await store.preferences.record(others, 44, 7, REQUEST, "Draft one.", "Draft two.")  # neither
    assert await store.forget_feedback(42) == 2
    assert [(p.job_id, p.user_id) for p in await store.preferences.all()] == [(others, 44)]
