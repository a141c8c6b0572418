"""The Implementor's exceptions: one base, a few branches, each with an actionable message.

    ImplementorError            anything we raise on purpose; the CLI prints it without a traceback
    ├── ConfigError             a setting is missing, malformed or a placeholder
    ├── InputError              a user's input is unusable (empty, too long, unknown choice)
    │   └── RateLimited         a request refused by a limit; says when to try again
    ├── DataError               a data set or folder is missing, empty or unreadable
    ├── CheckpointError         a checkpoint is missing, corrupt, pickled or does not fit its config
    └── JobTimeout              a job did not finish in the time its caller was willing to wait

Raise these at public boundaries; keep `assert` for internal invariants.
"""

from __future__ import annotations


class ImplementorError(Exception):
    """Base class for every error the Implementor raises on purpose."""


class ConfigError(ImplementorError):
    """A setting is missing, malformed or still a placeholder."""


class InputError(ImplementorError):
    """A user's input cannot be used as given."""


class RateLimited(InputError):
    """A request refused by a limit; `retry_after` says when to try again (seconds), `reason` which limit."""

    def __init__(self, message: str, retry_after: float, reason: str = "limit") -> None:
        super().__init__(message)
        self.retry_after, self.reason = retry_after, reason


class DataError(ImplementorError):
    """A data set or data folder is missing, empty or unreadable."""


class CheckpointError(ImplementorError):
    """A checkpoint directory is missing, corrupt, pickled or does not match its config."""


class JobTimeout(ImplementorError):
    """A job did not finish in the time the caller was willing to wait."""
