"""The one place that configures logging for every entry point (CLI, worker, bot), and the job id that
every line about a job carries.

Two formats: `text` (a time of day, the level, the logger: for a terminal) and `json` (one object per
line, python-json-logger: for the stack, where a log shipper reads it). Either way, a line logged while
a job is being handled carries its id: the bot and the workers wrap the work on a job in
`job_context(job_id)` (a context variable, so each asyncio task and thread keeps its own), and a
filter copies it onto every record as `job_id` (a batch's lines carry all its ids, comma-separated).
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s%(job_suffix)s"
_DATEFMT = "%H:%M:%S"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d"
_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("implementor_job_id", default=None)


@contextmanager
def job_context(job_ids: str | Iterable[str]) -> Iterator[None]:
    """Every line logged inside (in this task or thread) names the job, or the batch's jobs."""
    token = _job_id.set(job_ids if isinstance(job_ids, str) else ",".join(job_ids))
    try:
        yield
    finally:
        _job_id.reset(token)


def current_job() -> str | None:
    return _job_id.get()


class JobIdFilter(logging.Filter):
    """Puts the job in hand on the record: `job_id` (JSON) and a ` [job ...]` suffix (text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = _job_id.get()
        if job is not None and getattr(record, "job_id", None) is None:
            record.job_id = job
        job = getattr(record, "job_id", None)
        record.job_suffix = f" [job {job}]" if job else ""
        return True


def _formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        # `job_suffix` is the text format's; JSON has `job_id` as a field of its own.
        return JsonFormatter(_JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                             reserved_attrs=[*JsonFormatter().reserved_attrs, "job_suffix"], timestamp=False)
    return logging.Formatter(_FORMAT, _DATEFMT)


def setup_logging(level: str | int = "INFO", fmt: str = "text") -> None:
    """Send log records to stderr in one format; safe to call more than once.

    Library code only ever calls `logging.getLogger(__name__)`; entry points call this once.
    """
    root = logging.getLogger()
    root.setLevel(level if isinstance(level, int) else level.upper())
    # Replace our handler rather than reuse it: sys.stderr may have been swapped (test runners do).
    for old in [h for h in root.handlers if getattr(h, "_implementor", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler._implementor = True  # type: ignore[attr-defined]
    handler.addFilter(JobIdFilter())
    handler.setFormatter(_formatter(fmt))
    root.addHandler(handler)
    # Third-party libraries are chatty at INFO; keep their warnings, drop their progress talk.
    for noisy in ("matplotlib", "PIL", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # transformers draws a progress bar for every model it loads; ours are small and load in a blink.
    # (Read when transformers is first imported, so this must run before that.)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
