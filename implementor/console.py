"""Small helpers shared by the command modules."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

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


def candidates_table(candidates: list[Any]) -> str:
    """The drafts' scores from a job result (workers.schemas.CandidateScore), as a small table."""
    lines = ["  #  P(real)  quality  verdict"]
    for i, c in enumerate(candidates, 1):
        lines.append(f"{'*' if c.chosen else ' '}{i:2d}  {c.p_real:7.3f}  {c.quality:7.2f}  {c.reason}")
    return "\n".join(lines)
