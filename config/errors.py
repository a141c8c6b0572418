"""The Implementor's exceptions: one base, a few branches, each with an actionable message.

    ImplementorError            anything we raise on purpose; the CLI prints it without a traceback
    ├── ConfigError             a setting is missing, malformed or a placeholder
    ├── InputError              a user's input is unusable (empty, too long, unknown choice)
    ├── DataError               a data set or folder is missing, empty or unreadable
    └── CheckpointError         a checkpoint is missing, corrupt, pickled or does not fit its config

Raise these at public boundaries; keep `assert` for internal invariants.
"""

from __future__ import annotations


class ImplementorError(Exception):
    """Base class for every error the Implementor raises on purpose."""


class ConfigError(ImplementorError):
    """A setting is missing, malformed or still a placeholder."""


class InputError(ImplementorError):
    """A user's input cannot be used as given."""


class DataError(ImplementorError):
    """A data set or data folder is missing, empty or unreadable."""


class CheckpointError(ImplementorError):
    """A checkpoint directory is missing, corrupt, pickled or does not match its config."""
