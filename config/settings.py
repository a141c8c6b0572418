"""Settings for every process, read from the environment (prefix `IMPLEMENTOR_`) or a `.env` file.

Tests build `Settings(...)` directly; entry points call `get_settings()`. The configuration table in
the README is checked against the fields here by `tests/config/test_settings.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.errors import ConfigError


class Settings(BaseSettings):
    """Every knob of the Implementor. Field descriptions double as the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="IMPLEMENTOR_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Logging level for the CLI, workers and bot."
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where models run: `auto` picks `cuda` when a GPU is visible."
    )
    face_model: Path | None = Field(
        None,
        description="Face checkpoint directory (DCGAN). Empty: the bundled LFW model.",
    )
    face_png_size: int = Field(
        256,
        ge=128,
        le=1024,
        description="Side in pixels of posted face PNGs; faces are upscaled with a smooth filter.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("face_model", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        # An empty variable in .env means "use the default", not "the current directory".
        return None if isinstance(value, str) and not value.strip() else value


def get_settings() -> Settings:
    """Read settings from the environment, turning validation failures into a ConfigError."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"IMPLEMENTOR_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None


def settings_table() -> str:
    """The README's configuration table, rendered from the fields above (a test keeps them equal)."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(unset)" if default is None else f"`{default}`"
        rows.append(f"| `IMPLEMENTOR_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)
