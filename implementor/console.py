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
