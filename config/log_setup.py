"""The one place that configures logging for every entry point (CLI, worker, bot)."""

from __future__ import annotations

import logging
import sys

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_DATEFMT = "%H:%M:%S"


def setup_logging(level: str | int = "INFO") -> None:
    """Send log records to stderr in one format; safe to call more than once.

    Library code only ever calls `logging.getLogger(__name__)`; entry points call this once.
    """
    root = logging.getLogger()
    root.setLevel(level if isinstance(level, int) else level.upper())
    handler = next((h for h in root.handlers if getattr(h, "_implementor", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._implementor = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(logging.Formatter(_FORMAT, _DATEFMT))
    # Third-party libraries are chatty at INFO; keep their warnings, drop their progress talk.
    for noisy in ("matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
