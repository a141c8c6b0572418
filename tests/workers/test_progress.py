"""A batch's progress as the worker writes it: each change of stage at once, the share done at most once
a second, to every job the batch follows, and a backend that fails never failing the batch."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from implementor.config.settings import Settings
from implementor.workers.app import create_app
from implementor.workers.progress import BatchProgress


class Backend:
    def __init__(self, fail: bool = False) -> None:
        self.writes: list[tuple[str, dict[str, Any], str]] = []
        self.fail = fail

    def store_result(self, task_id: str, meta: dict[str, Any], state: str) -> None:
        if self.fail:
            raise ConnectionError("Redis is away")
        self.writes.append((task_id, meta, state))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_stages_are_written_at_once_and_the_share_done_at_most_every_second() -> None:
    backend, clock = Backend(), Clock()
    progress = BatchProgress(backend, every_s=1.0, clock=clock)
    progress.follow(["job-a", "job-b"])
    progress("writing drafts", None)
    for step in range(1, 50):  # 49 decoding steps within 0.49 s: none written
        clock.now += 0.01
        progress("writing drafts", step / 100)
    clock.now += 0.6
    progress("writing drafts", 0.55)  # a second since the last write
    progress("writing drafts", 0.56)
    progress("judging drafts", None)  # a new stage: at once
    progress("judging drafts", None)  # nothing new
    assert [(t, m["stage"], m["progress"]) for t, m, _ in backend.writes] == [
        ("job-a", "writing drafts", None), ("job-b", "writing drafts", None),
        ("job-a", "writing drafts", 0.55), ("job-b", "writing drafts", 0.55),
        ("job-a", "judging drafts", None), ("job-b", "judging drafts", None)]
    assert {state for *_, state in backend.writes} == {"PROGRESS"}


def test_only_the_jobs_followed_now_hear_of_it_and_shares_stay_in_bounds() -> None:
    backend = Backend()
    progress = BatchProgress(backend, every_s=0.0)
    progress.follow(["job-a", "job-b"])
    progress("loading models")
    progress.follow(["job-b"])  # job-a was withdrawn before its drafting started
    progress("writing drafts", 1.0000001)
    assert [(t, m["stage"], m["progress"]) for t, m, _ in backend.writes] == [
        ("job-a", "loading models", None), ("job-b", "loading models", None), ("job-b", "writing drafts", 1.0)]


def test_a_backend_that_fails_is_logged_once_and_the_batch_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    progress = BatchProgress(Backend(fail=True), every_s=0.0)
    progress.follow(["job-a", "job-b"])
    with caplog.at_level(logging.WARNING):
        progress("writing drafts", 0.1)
        progress("writing drafts", 0.2)
    assert len([r for r in caplog.records if "could not report the progress" in r.message]) == 1


def test_the_embedded_backend_takes_the_writes_the_client_reads() -> None:
    from implementor.workers.client import JobClient
    from implementor.workers.ledger import MemoryLedger

    app = create_app(Settings())  # cache+memory://, as the embedded default has it
    progress = BatchProgress(app.backend)
    progress.follow(["job-embedded-0001"])
    progress("writing drafts", 0.4)
    view = JobClient(app, MemoryLedger())._view("job-embedded-0001", waiting=[], taken=set())
    assert (view.state, view.stage, view.progress) == ("running", "writing drafts", 0.4)
