"""The writer's corpus records: one JSON object per line of `train.jsonl`, `validation.jsonl`, `test.jsonl`.

The corpus builder writes them, the learning loop harvests them from a server's history, and
operators bring their own in the same shape:

    {"task": "cv", "name": "Ada Lovelace", "title": "Data Scientist", "body": "## Profile ..."}
    {"task": "reply", "request": "Can anyone help us ...?", "reply": "Happy to help ...",
     "subject": "optional: what it is about", "persona": {"name": ..., "title": ..., "skills": [...]},
     "history": [{"role": "member", "text": ...}, {"role": "colleague", "text": ...}]}

A pair with a `history` is the end of a conversation: its request is the member's newest turn, and
the turns before it (the first request, the colleague's reply, ...) come first in its prompt.

Extra fields are kept (the builder records the ESCO occupation, say), so a record read and written
again loses nothing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from implementor.contracts.jobs import MAX_TURNS, Turn
from implementor.contracts.persona import Line, Persona

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class CVRecord(BaseModel):
    """One CV in a corpus JSONL file."""

    model_config = ConfigDict(extra="allow", frozen=True)
    task: Literal["cv"] = "cv"
    name: Line
    title: Line
    body: Text


class PairRecord(BaseModel):
    """One project request and the reply that answers it, optionally with the colleague who replies."""

    model_config = ConfigDict(extra="allow", frozen=True)
    task: Literal["reply"] = "reply"
    request: Text
    reply: Text
    subject: str | None = Field(None, description="What the request is about; replies should mention it.")
    persona: Persona | None = Field(None, description="The colleague who replies; the reply speaks as them.")
    history: tuple[Turn, ...] = Field((), max_length=MAX_TURNS,
                                      description="The conversation before the request, oldest first.")


Record = CVRecord | PairRecord
