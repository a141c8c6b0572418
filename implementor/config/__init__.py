"""Settings (`IMPLEMENTOR_*`, pydantic-settings) and logging set-up, for every process.

May import: `contracts` (the exception tree, re-exported here for convenience). Everything else in
the Implementor may import from here.
"""

from __future__ import annotations

from implementor.config.log_setup import setup_logging
from implementor.config.settings import Settings, get_settings
from implementor.contracts.errors import CheckpointError, ConfigError, DataError, ImplementorError, InputError

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
