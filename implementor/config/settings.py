"""Settings for every process, read from the environment (prefix `IMPLEMENTOR_`) or a `.env` file.

Tests build `Settings(...)` directly; entry points call `get_settings()`. The configuration table in
the docs' configuration page is rendered from the fields here (`docs/hooks/settings_table.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from implementor.config.scale_out import ScaleOut
from implementor.contracts.errors import ConfigError

# Values people leave in .env files; a token that reads like one of these is refused, not tried.
_PLACEHOLDERS = {"changeme", "change-me", "token", "xxx", "your-token-here", "todo", "secret", "none"}


class Settings(ScaleOut):
    """Every knob of the Implementor. Field descriptions double as the docs' configuration page."""

    model_config = SettingsConfigDict(env_prefix="IMPLEMENTOR_", env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore", frozen=True)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Logging level for the CLI, workers and bot."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as `text` (for a terminal) or `json` (one object a line, with the job id; the "
        "stack's)."
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where models run: `auto` picks `cuda` when a GPU is visible."
    )
    face_model: Path | None = Field(
        None,
        description="Face checkpoint directory (DCGAN). Empty: the bundled LFW model.",
    )
    writer_model: Path | None = Field(
        None,
        description="Writer checkpoint directory: a LoRA adapter on a pretrained base, or a whole model. "
        "Empty: the bundled SmolLM2 fine-tune.",
    )
    writer_engine: Literal["auto", "llama.cpp", "ctranslate2", "torch"] = Field(
        "auto", description="How the writer samples drafts: `auto` is the fastest that can run it here (on a CPU "
        "llama.cpp when built, then CTranslate2; on a GPU CTranslate2), else PyTorch.",
    )
    cache_dir: Path | None = Field(
        None,
        description="Where a fine-tuned writer's merged model and engine copy are built on first use "
        "(about 0.8 GB each). Empty: `$XDG_CACHE_HOME/implementor`, else `~/.cache/implementor`.",
    )
    encoder: str = Field(
        "all-MiniLM-L6-v2",
        description="BERT encoder for the reranking heads: a hub name, a directory, or the shipped all-MiniLM-L6-v2.",
    )
    realism_model: Path | None = Field(
        None, description="Realism discriminator directory. Empty: the bundled one (on all-MiniLM-L6-v2)."
    )
    quality_model: Path | None = Field(
        None, description="Quality model directory. Empty: the bundled one (on all-MiniLM-L6-v2)."
    )
    realism_threshold: float = Field(
        0.9, ge=0.0, le=1.0, description="Drafts need at least this P(real) to be posted (else: low confidence)."
    )
    candidates: int | None = Field(
        None, ge=1, le=32, description="Drafts the writer makes per CV or reply; the best is posted. "
        "Empty: the writer's card (per task, measured against quality and time).",
    )
    cv_keep: int = Field(2, ge=0, le=32, description="CV drafts that may go on once every draft has written its "
                         "Profile, the realism head's best first and one at a time: the next only if the one before "
                         "breaks the CV's rules or fails the realism threshold; the rest stop there. 0: every draft "
                         "goes on; llama.cpp only.")
    explore: float = Field(
        0.1, ge=0, le=0.5,
        description="Share of replies for which another draft that passed the realism threshold is posted "
        "instead of the top one, so that ratings also reach drafts the quality model did not favour.",
    )
    face_png_size: int = Field(
        256,
        ge=128,
        le=1024,
        description="Side in pixels of posted face PNGs; faces are upscaled with a smooth filter.",
    )

    # --- the queue: Celery on Redis ---
    broker_url: SecretStr | None = Field(
        None,
        description="Redis URL for the Celery broker, results and job ledger, e.g. `redis://redis:6379/0`. "
        "Empty: run jobs in-process on an embedded broker.",
    )
    task_time_limit_s: int = Field(300, ge=10, description="A job running longer is killed (hard limit).")
    task_soft_time_limit_s: int = Field(
        270, ge=5, description="A job running longer is asked to stop and reports an error (soft limit)."
    )
    visibility_timeout_s: int | None = Field(
        None,
        ge=30,
        description="An unacknowledged job is handed to another worker after this long (a dead worker's jobs "
        "are resubmitted sooner, once its heartbeat lapses); must exceed twice the time limit, as a job may wait "
        "out one batch first.",
    )
    result_ttl_s: int = Field(86400, ge=60, description="How long results and ledger entries are kept.")
    max_attempts: int = Field(3, ge=1, le=10, description="A job that kills its worker this many times fails.")
    batch_max_size: int = Field(
        8, ge=1, le=64, description="Jobs a worker runs through the models together at most (1: no batching)."
    )
    batch_window_s: float = Field(
        0.05, gt=0, le=5, description="How long a worker waits for more jobs to join a batch."
    )
    worker_concurrency: int = Field(1, ge=1, le=64, description="Worker processes (each holds a model set).")
    worker_autoscale: str | None = Field(
        None, description="`MAX,MIN` worker processes, scaled by queue length and free GPU memory."
    )
    worker_metrics_port: int | None = Field(
        None, ge=1, le=65535, description="Port where a worker serves Prometheus metrics (`/metrics`), its "
        "processes' added up. Empty: none."
    )
    model_set_gb: float = Field(
        1.0, gt=0, description="GPU memory one worker process's models need; autoscaling keeps this much free."
    )

    # --- the Discord bot ---
    discord_token: SecretStr | None = Field(
        None, description="The bot's token from the Discord developer portal (needed by `implementor bot` only)."
    )
    dev_guild_id: int | None = Field(
        None, description="A server (guild) id to sync slash commands to at once, while developing."
    )
    bot_metrics_port: int | None = Field(
        None, ge=1, le=65535, description="Port where the bot serves Prometheus metrics (`/metrics`). Empty: none."
    )
    user_cooldown_s: int = Field(20, ge=0, le=3600, description="Seconds a member waits between two requests.")
    user_max_in_flight: int = Field(2, ge=1, le=20, description="Jobs one member may have queued or running.")
    queue_cap: int = Field(50, ge=1, le=10_000, description="Jobs queued or running across all servers at most.")
    reconcile_interval_s: float = Field(
        1.0, gt=0, le=60, description="How often the bot checks its open jobs on the broker, and posts finished ones."
    )
    no_worker_refuse_s: int = Field(
        600, ge=0, description="With no worker serving the queue for this long, new requests are refused privately, "
        "with the reason (until then they wait in line, and their statuses say no worker is running). 0: never refuse."
    )

    # --- learning from the server (only channels an admin enabled with /learn enable) ---
    learning_dir: Path = Field(
        Path("learning-data"), description="Where harvested pairs and texts are kept (JSONL, scrubbed)."
    )
    models_dir: Path | None = Field(
        None, description="Versions of the retrained heads and which is live; workers follow it without a restart."
    )
    model_poll_s: float = Field(
        30.0, gt=0, le=3600, description="How often a worker checks, between batches, for a newly promoted head."
    )
    learn_interval_h: float = Field(
        24.0, gt=0, le=24 * 30, description="How often the `beat` service runs harvest and retraining."
    )
    beat_lock_timeout_s: float = Field(
        150.0, ge=1, le=3600, description="Beat's leader lease: a standby beat takes over this long after the "
        "leader died (plus a fifth of it at most)."
    )
    learn_min_pairs: int = Field(
        50, ge=1, description="New harvested pairs needed before a head is retrained (fewer: the run waits)."
    )
    harvest_max_messages: int = Field(
        1000, ge=1, le=100_000, description="Messages read per channel and harvest at most (the rest: next run)."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("face_model", "writer_model", "realism_model", "quality_model", "broker_url",
                     "worker_autoscale", "discord_token", "dev_guild_id", "models_dir", "cache_dir",
                     "bot_metrics_port", "worker_metrics_port", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        # An empty variable in .env means "use the default", not "the current directory".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("broker_url")
    @classmethod
    def _redis_only(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// or rediss:// URL")
        return value

    @field_validator("discord_token")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            token = value.get_secret_value().strip()
            if token.lower() in _PLACEHOLDERS or token.startswith(("<", "your")) or len(token) < 50:
                raise ValueError("is a placeholder or too short; paste the bot token from the developer portal")
        return value

    @field_validator("worker_autoscale")
    @classmethod
    def _max_min(cls, value: str | None) -> str | None:
        if value is not None:
            parts = value.split(",")
            if len(parts) != 2 or not all(p.strip().isdigit() for p in parts) or int(parts[0]) < int(parts[1]):
                raise ValueError("must be MAX,MIN with MAX >= MIN, e.g. 4,1")
        return value

    @model_validator(mode="after")
    def _limits_fit(self) -> Settings:
        if self.task_soft_time_limit_s >= self.task_time_limit_s:
            raise ValueError("IMPLEMENTOR_TASK_SOFT_TIME_LIMIT_S must be below IMPLEMENTOR_TASK_TIME_LIMIT_S")
        if self.visibility_timeout_s is not None and self.visibility_timeout_s <= 2 * self.task_time_limit_s:
            # Otherwise Redis hands a job that is still running (or waiting for its batch) to a second worker.
            raise ValueError("IMPLEMENTOR_VISIBILITY_TIMEOUT_S must exceed twice IMPLEMENTOR_TASK_TIME_LIMIT_S")
        return self

    @property
    def bot_health_path(self) -> Path:
        """Where the bot writes its health (beside its store), for `implementor health bot`."""
        return self.bot_store_path.with_name(self.bot_store_path.name + ".health.json")

    @property
    def beat_health_path(self) -> Path:
        """Where beat writes its heartbeat (its role too: leader or standby), for `implementor health beat`."""
        return self.learning_dir / "beat.health.json"

    def check_model_paths(self) -> None:
        """Raise a ConfigError naming the setting if a configured model directory is not a checkpoint."""
        for name in ("face_model", "writer_model", "realism_model", "quality_model"):
            path: Path | None = getattr(self, name)
            if path is None:
                continue
            path = path.expanduser()
            if not path.is_dir():
                why = "is a file, not a checkpoint directory" if path.exists() else "does not exist"
                raise ConfigError(f"IMPLEMENTOR_{name.upper()}={path}: no checkpoint there ({why})")
            if not (path / "config.json").exists():
                raise ConfigError(f"IMPLEMENTOR_{name.upper()}={path}: not a checkpoint directory (no config.json)")

    @property
    def visibility_timeout(self) -> int:
        """Seconds before Redis hands an unacknowledged job to another worker.

        A job a worker has taken may wait for the batch before it (up to one time limit), then run
        (up to another): twice the hard limit plus a minute is the shortest safe bound, and the
        default, so a dead worker's jobs come back in minutes, not in an hour.
        """
        return self.visibility_timeout_s or 2 * self.task_time_limit_s + 60


def redacted_url(url: str) -> str:
    """A URL as it may be shown or logged: any password replaced by `***`."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    netloc = f"{user}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def get_settings() -> Settings:
    """Read settings from the environment, turning validation failures into a ConfigError."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            (f"IMPLEMENTOR_{'_'.join(str(p) for p in err['loc']).upper()}: " if err["loc"] else "") + err["msg"]
            for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None


def env_example() -> str:
    """The text of `.env.example`: every setting with its meaning and default (a test keeps them equal)."""
    lines = ["# The Implementor's settings. Copy to .env and change what you need; every line is optional.",
             "# Generated from implementor/config/settings.py (implementor.config.settings.env_example)."]
    for name, field in Settings.model_fields.items():
        lines += ["", f"# {field.description}"]
        value = "" if field.default is None else str(field.default)
        lines.append(f"{'# ' if field.default is None else ''}IMPLEMENTOR_{name.upper()}={value}")
    return "\n".join(lines) + "\n"


def settings_table() -> str:
    """The configuration page's table (docs/configuration.md, filled in when the docs build), from the fields."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(unset)" if default is None else f"`{default}`"
        if name == "broker_url":
            shown = "(unset: embedded)"
        if name == "visibility_timeout_s":
            shown = "(unset: 2 x time limit + 60)"
        rows.append(f"| `IMPLEMENTOR_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)
