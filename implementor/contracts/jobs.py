"""Jobs and results: what crosses the broker, as pydantic models serialised to JSON.

The bot makes a job (and so its id) and queues it; a worker answers with a result of the same kind
and id; a worker that runs a job twice returns the result it recorded the first time. Nothing here
imports torch or discord.py: the bot, the workers and the command line all share these types.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from implementor.contracts.persona import Persona
from implementor.contracts.scores import CandidateScore

# Control characters and zero-width marks are invisible in Discord and only ever get in the way.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
REQUEST_MIN, REQUEST_MAX = 10, 1500

JobId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


def new_job_id() -> str:
    return uuid.uuid4().hex


def strip_invisible(text: str) -> str:
    """Remove control and zero-width characters, keep line breaks, collapse runs of spaces."""
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n"))
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_PLAIN = re.compile(r"^[\w .,'&/()+-]+$")  # a name or title a member may choose: no mention, markup or line break
PLAIN_CHARACTERS = "letters, digits, spaces and . , ' & / ( ) + -"


class IntroduceJob(_Message):
    """Make a colleague: a face from `seed` and a CV for `name` and `title` (chosen if left out)."""

    kind: Literal["introduce"] = "introduce"
    job_id: JobId = Field(default_factory=new_job_id)
    name: Name | None = None
    title: Name | None = None
    seed: int | None = Field(None, ge=0, le=2**31 - 1)

    @field_validator("name", "title")
    @classmethod
    def _plain(cls, value: str | None) -> str | None:
        if value is not None and not _PLAIN.fullmatch(value):
            raise ValueError(f"use {PLAIN_CHARACTERS} only")
        return value


TURN_MAX = 6000  # a turn's characters: a member's turn is a request (1,500 at most), a colleague's a reply
MAX_TURNS = 24  # earlier turns a follow-up carries: the prompt's budget drops the oldest of them anyway


class Turn(_Message):
    """One turn of a conversation before the newest request: the member's words, or the colleague's answer."""

    role: Literal["member", "colleague"]
    text: str

    @field_validator("text")
    @classmethod
    def _clean_text(cls, value: str) -> str:
        value = strip_invisible(value)
        if not 1 <= len(value) <= TURN_MAX:
            raise ValueError(f"a turn must be 1 to {TURN_MAX} characters, got {len(value)}")
        return value


class ProjectJob(_Message):
    """Answer a colleague's project request in the voice of the colleague given here (if any).

    A follow-up carries the conversation before its request in `history`, oldest first: the member's
    first request, the colleague's answer, the member's next turn, and so on, always ending with the
    colleague's answer (the turns alternate and start with the member's)."""

    kind: Literal["project"] = "project"
    job_id: JobId = Field(default_factory=new_job_id)
    request: str
    colleague: Persona | None = None
    explore: float | None = Field(None, ge=0.0, le=1.0)  # the server's own (/settings); None: the workers'
    history: tuple[Turn, ...] = Field((), max_length=MAX_TURNS)
    # Nobody on the team yet: the worker hires a colleague first (a face and a CV, as /introduce does),
    # who then answers; the result carries their profile, and the bot adds them to the roster.
    hire: bool = False

    @model_validator(mode="after")
    def _one_voice(self) -> ProjectJob:
        if self.hire and self.colleague is not None:
            raise ValueError("a job either names its colleague or hires one, not both")
        return self

    @field_validator("history")
    @classmethod
    def _alternating(cls, value: tuple[Turn, ...]) -> tuple[Turn, ...]:
        if len(value) % 2 or any(turn.role != ("member", "colleague")[i % 2] for i, turn in enumerate(value)):
            raise ValueError("a conversation's turns alternate member, colleague, ..., and end with the colleague's")
        return value

    @field_validator("request")
    @classmethod
    def _clean_request(cls, value: str) -> str:
        value = strip_invisible(value)
        if not REQUEST_MIN <= len(value) <= REQUEST_MAX:
            raise ValueError(f"the request must be {REQUEST_MIN} to {REQUEST_MAX} characters, got {len(value)}")
        return value


Job = Annotated[IntroduceJob | ProjectJob, Field(discriminator="kind")]


class Profile(_Message):
    """A newly hired colleague: who they are, their CV and their face."""

    name: str
    title: str
    seed: int
    cv: str  # Markdown: the four sections; the name and title are rendered around it
    png_base64: str  # the face, as a PNG
    face_px: int | None = None  # the face model's own size (the PNG is upscaled): under 64 px it is shown small

    @property
    def shown_small(self) -> bool:
        """Whether the face is shown as a thumbnail: a model this small makes a blur at full size."""
        return self.face_px is not None and self.face_px < 64


class ResultBase(_Message):
    job_id: str
    status: Literal["ok", "error", "cancelled"]
    error: str | None = None
    attempts: int = 1
    timings_ms: dict[str, float] = Field(default_factory=dict)


class IntroduceResult(ResultBase):
    kind: Literal["introduce"] = "introduce"
    profile: Profile | None = None
    candidates: list[CandidateScore] = Field(default_factory=list)
    low_confidence: bool = False


class ProjectResult(ResultBase):
    kind: Literal["project"] = "project"
    reply: str | None = None
    candidates: list[CandidateScore] = Field(default_factory=list)
    low_confidence: bool = False
    explored: bool = False  # the posted draft was chosen by exploration, not as the top one
    profile: Profile | None = None  # the colleague a hiring job hired first, who wrote the reply


Result = Annotated[IntroduceResult | ProjectResult, Field(discriminator="kind")]
# A job's kind -> the class of its result: the one map every reader of a stored or cancelled result uses.
RESULT_OF_KIND: dict[str, type[IntroduceResult] | type[ProjectResult]] = {"introduce": IntroduceResult,
                                                                          "project": ProjectResult}


class JobView(BaseModel):
    """Where a job stands on the broker, as the bot's reconciler sees it in one snapshot.

    - queued: waiting in the queue; `position` 1 is the next to start;
    - reserved: taken by a worker, waiting for its batch to start;
    - running: a worker is on it (`stage` says what it is doing, `progress` how far through that stage);
    - done: it has a result (ok, error or cancelled);
    - orphaned: taken or started by a worker that stopped beating (`worker` names it): it will not
      finish there, and should be submitted again;
    - unknown: nowhere to be seen (not queued, taken, running or finished): lost, or just expired.
    """

    model_config = ConfigDict(frozen=True)
    job_id: str
    state: Literal["queued", "reserved", "running", "done", "orphaned", "unknown"]
    position: int | None = None
    stage: str | None = None
    progress: float | None = Field(None, ge=0.0, le=1.0)  # share of the current stage done; None: unknown
    worker: str | None = None  # the dead holder of an orphaned job
    result: IntroduceResult | ProjectResult | None = Field(None, discriminator="kind")
