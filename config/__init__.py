"""Settings, logging set-up and the project's exception tree.

Everything else in the Implementor may import from here; this package imports nothing of ours.
"""

from __future__ import annotations

from config.log_setup import setup_logging
from config.settings import Settings, get_settings
from contracts.errors import CheckpointError, ConfigError, DataError, ImplementorError, InputError

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "ImplementorError",
    "InputError",
    "Settings",
    "get_settings",
    "setup_logging",
]
