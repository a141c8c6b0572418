"""Small helpers shared by the command modules."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer


def command_line() -> str:
    """The command as typed, recorded on model cards so a checkpoint says how it was made."""
    return shlex.join(["implementor", *sys.argv[1:]])


def done(message: str, path: Path | None = None) -> None:
    """Tell the user what was written, in one line on stdout."""
    typer.secho(message + (f": {path}" if path is not None else ""), fg=typer.colors.GREEN)


class ProgressLine:
    """One status line on stderr, rewritten in place on a terminal, one line per change otherwise."""

    def __init__(self, label: str) -> None:
        import time

        self.label, self.started, self.last = label, time.monotonic(), ""
        self.tty = sys.stderr.isatty()

    def __call__(self, stage: str) -> None:
        import time

        elapsed = time.monotonic() - self.started
        if self.tty:
            sys.stderr.write(f"\r{self.label}: {stage}... {elapsed:4.1f} s ")
            sys.stderr.flush()
        elif stage != self.last:
            sys.stderr.write(f"{self.label}: {stage}... ({elapsed:.1f} s)\n")
        self.last = stage

    def finish(self, message: str = "done") -> None:
        self(message)
        if self.tty:
            sys.stderr.write("\n")
