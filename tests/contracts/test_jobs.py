"""Jobs and results as they cross the broker: JSON round trips, validation, no torch on the bot side."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import TypeAdapter, ValidationError

from implementor.contracts.jobs import IntroduceJob, IntroduceResult, Job, Profile, ProjectJob, ProjectResult, Result
from implementor.contracts.persona import Persona


def test_the_bot_side_never_imports_torch() -> None:
    code = ("import sys, implementor.contracts.jobs, implementor.contracts.scores, implementor.contracts.cv, "
            "implementor.workers.client, implementor.workers.app; "
            "bad = [m for m in ('torch', 'transformers', 'models') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_caller_chooses_the_job_id() -> None:
    job = ProjectJob(job_id="job-0001", request="Could you help us plan the spring campaign?")
    assert job.job_id == "job-0001"
    assert len(ProjectJob(request="Could you help us plan it?").job_id) == 32  # a fresh uuid4 hex otherwise
    with pytest.raises(ValidationError):
        ProjectJob(job_id="no spaces allowed", request="Could you help us plan it?")


def test_requests_are_cleaned_and_bounded() -> None:
    job = ProjectJob(request="Help\u200b us\x07 plan   the\u202e launch,\r\nplease!")
    assert job.request == "Help us plan the launch,\nplease!"
    with pytest.raises(ValidationError, match="10 to 1500"):
        ProjectJob(request="too short")
    with pytest.raises(ValidationError, match="10 to 1500"):
        ProjectJob(request="x" * 1501)
    with pytest.raises(ValidationError, match="10 to 1500"):
        ProjectJob(request="\u200b" * 40)  # nothing left once the invisible characters go


def test_jobs_and_results_round_trip_through_json() -> None:
    jobs: TypeAdapter[Job] = TypeAdapter(Job)
    intro = IntroduceJob(name="Ada Lovelace", seed=7)
    assert jobs.validate_json(intro.model_dump_json()) == intro
    results: TypeAdapter[Result] = TypeAdapter(Result)
    done = IntroduceResult(job_id="abcdefgh", status="ok", profile=Profile(
        name="Ada", title="Analyst", seed=7, cv="## Profile\n...", png_base64="iVBOR"))
    assert results.validate_json(done.model_dump_json()) == done
    failed = ProjectResult(job_id="abcdefgh", status="error", error="malformed job")
    assert isinstance(results.validate_python(failed.model_dump(mode="json")), ProjectResult)
    with pytest.raises(ValidationError):
        IntroduceJob(seed=-1)
    ada = Persona(name="Ada Lovelace", title="Data Scientist", skills=("manage data",))
    asked = ProjectJob(request="Could you help us plan the spring campaign?", colleague=ada)
    assert jobs.validate_json(asked.model_dump_json()) == asked


def test_a_persona_comes_from_a_cv() -> None:
    cv = "## Profile\nI plan.\n\n## Skills\n- plan campaigns\n- write copy\n- sell\n- negotiate\n"
    persona = Persona.from_cv("Ada", "Planner", cv)
    assert persona.skills == ("plan campaigns", "write copy", "sell", "negotiate")
    assert persona.line() == "Ada, Planner; plan campaigns; write copy; sell"  # the control format names three
    assert persona.roles == () and persona.education == () and persona.profile == "I plan."


def test_a_persona_carries_its_whole_cv_and_travels_with_a_job() -> None:
    cv = ("## Profile\nI have planned events for 9 years. I like lists.\n\n## Skills\n- plan events\n- budget\n"
          "- negotiate\n\n## Experience\n- Senior Planner, Acme Events (2019-present). Ran fairs.\n"
          "- Planner, Read, Harper and Sons (2017-2019). Booked halls.\n\n## Education\n"
          "- BA in Events, University of Leeds (2016)\n")
    ada = Persona.from_cv("Ada", "Planner", cv)
    assert [(r.employer, r.start, r.end) for r in ada.roles] == [("Acme Events", 2019, None),
                                                                 ("Read, Harper and Sons", 2017, 2019)]
    assert ada.education == ("BA in Events, University of Leeds (2016)",)
    assert "Experience: Senior Planner, Acme Events (2019-present); Planner, Read, Harper and Sons (2017-2019)" \
        in ada.facts()
    job = ProjectJob(request="Could you help us plan the spring fair?", colleague=ada)
    assert TypeAdapter(Job).validate_json(job.model_dump_json()).colleague == ada
    # A job queued before personas carried CVs still reads.
    old = '{"kind": "project", "job_id": "job-00001", "request": "Could you help us plan?", ' \
          '"colleague": {"name": "Ada", "title": "Planner", "skills": ["plan"]}}'
    assert TypeAdapter(Job).validate_json(old).colleague.roles == ()


def test_a_job_view_carries_the_share_of_its_stage_done_or_none() -> None:
    from implementor.contracts.jobs import JobView

    assert JobView(job_id="job-0001", state="running", stage="loading models").progress is None
    view = JobView(job_id="job-0001", state="running", stage="writing drafts", progress=0.5)
    assert JobView.model_validate_json(view.model_dump_json()) == view
    for outside in (-0.01, 1.01):
        with pytest.raises(ValidationError):
            JobView(job_id="job-0001", state="running", progress=outside)
