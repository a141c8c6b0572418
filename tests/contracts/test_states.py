"""A job's states and its status message's stages: every state open or over, and a worker's stage
that the bot does not know never read as an end."""

from __future__ import annotations

import pytest

from implementor.contracts.states import ENDS, OPEN, WAITING, JobState, Stage


def test_every_state_is_either_open_or_an_end() -> None:
    assert set(OPEN) | set(ENDS) == set(JobState) and not set(OPEN) & set(ENDS)
    assert set(WAITING) < set(OPEN)
    assert [s for s in JobState if s.open] == list(OPEN)


@pytest.mark.parametrize(("reported", "stage"), [
    (None, Stage.GENERATING), ("generating", Stage.GENERATING), ("loading models", Stage.LOADING),
    ("writing drafts", Stage.DRAFTING), ("judging drafts", Stage.JUDGING), ("compiling kernels", Stage.WORKING),
    ("done", Stage.WORKING), ("failed", Stage.WORKING), ("queued", Stage.WORKING), ("", Stage.WORKING)])
def test_a_running_job_is_at_a_running_stage_whatever_its_worker_says(reported: str | None, stage: Stage) -> None:
    assert Stage.running(reported) is stage


def test_text_that_names_no_stage_reads_as_working() -> None:
    assert Stage.named("done") is Stage.DONE and Stage.named(Stage.QUEUED) is Stage.QUEUED
    assert Stage.named("Done") is Stage.WORKING and Stage.named("half way") is Stage.WORKING


def test_an_ended_job_closes_its_status_with_how_it_ended() -> None:
    closing = {state: Stage.closing(state) for state in JobState}
    assert closing == {JobState.POSTED: Stage.DONE, JobState.FAILED: Stage.FAILED,
                       JobState.CANCELLED: Stage.CANCELLED, JobState.EXPIRED: Stage.EXPIRED,
                       **{state: None for state in (*OPEN, JobState.DELETED)}}


def test_the_stages_a_worker_reports_while_it_runs_are_no_end() -> None:
    assert (Stage.DRAFTING, Stage.JUDGING) == ("writing drafts", "judging drafts")  # as workers spell them
    for reported in ("loading models", "writing drafts", "judging drafts", "generating"):
        assert Stage.running(reported).value == reported  # each has its own status line, and none is an end
    assert Stage.running("done") is Stage.WORKING and Stage.running(None) is Stage.GENERATING
