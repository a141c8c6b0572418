"""The one place that configures logging for every entry point (CLI, worker, bot)."""

from __future__ import annotations

import logging
import os
import sys

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_DATEFMT = "%H:%M:%S"


def setup_logging(level: str | int = "INFO") -> None:
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
    handler.setFormatter(logging.Formatter(_FORMAT, _DATEFMT))
    root.addHandler(handler)
    # Third-party libraries are chatty at INFO; keep their warnings, drop their progress talk.
    for noisy in ("matplotlib", "PIL", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # transformers draws a progress bar for every model it loads; ours are small and load in a blink.
    # (Read when transformers is first imported, so this must run before that.)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
