"""Commands for learning from the server: harvest, a whole learning cycle, the model versions, and beat.

    implementor harvest                    read the enabled channels once (needs the bot's token)
    implementor learn [--no-harvest]       harvest, then retrain each head (quality, realism) with enough new data
    implementor models list                every version of each head, with its metrics; the live one marked
    implementor models promote KIND VER    make a version live (workers follow within IMPLEMENTOR_MODEL_POLL_S)
    implementor models rollback KIND       make the version live before the current one live again
    implementor beat                       Celery beat: a learning cycle every IMPLEMENTOR_LEARN_INTERVAL_H (one
                                           leader among the beats running)
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from implementor.cli.console import done
from implementor.config import get_settings
from implementor.contracts.errors import ConfigError

KindArg = Annotated[str, typer.Argument(help="quality or realism")]


def harvest() -> None:
    """Read the channels an admin enabled (/learn enable) into training sets, once; prints the counts."""
    from implementor.learning.harvest_job import run_harvest

    settings = get_settings()
    counts = asyncio.run(run_harvest(settings))
    typer.echo(json.dumps({str(k): v for k, v in counts.items()}, indent=2, ensure_ascii=False))
    done(f"harvested {len(counts)} channels into", settings.learning_dir)


def learn(
    no_harvest: Annotated[bool, typer.Option("--no-harvest", help="Retrain from what was harvested already.")] = False,
) -> None:
    """A learning cycle: harvest, then retrain each head with enough new data, promoting only what is better."""
    from implementor.learning.cycle import learn_once

    report = learn_once(get_settings(), harvest=not no_harvest)
    typer.echo(json.dumps(report, indent=2, ensure_ascii=False))


def _models_dir() -> Path:
    settings = get_settings()
    if settings.models_dir is None:
        raise ConfigError("model versions live in a directory: set IMPLEMENTOR_MODELS_DIR")
    return settings.models_dir


def models_list() -> None:
    """Every version of each head with its held-out metrics; * marks the live one."""
    from implementor.store import versions

    folder = _models_dir()
    for kind in versions.KINDS:
        rows = versions.describe(folder, kind)
        typer.echo(f"{kind}: " + ("no versions yet" if not rows else ""))
        for row in rows:
            typer.echo(f"  {'*' if row['live'] else ' '} {row['version']}  {json.dumps(row['metrics'])}")


def models_promote(kind: KindArg, version: Annotated[str, typer.Argument(help="e.g. v0003")]) -> None:
    """Make a version live; running workers load it between batches."""
    from implementor.store import versions

    versions.promote(_models_dir(), kind, version, "promoted by an operator")
    done(f"{kind} {version} is live")


def models_rollback(kind: KindArg) -> None:
    """Make the version that was live before the current one live again."""
    from implementor.store import versions

    earlier = versions.rollback(_models_dir(), kind)
    done(f"{kind} rolled back to {earlier}")


def beat() -> None:
    """Run Celery beat, which sends a learning cycle to the learner every IMPLEMENTOR_LEARN_INTERVAL_H.

    Run two (or more) for a beat that survives: one leads and sends, the others wait and take over
    within IMPLEMENTOR_BEAT_LOCK_TIMEOUT_S of its death; the schedule lives in Redis, not on disk."""
    settings = get_settings()
    if settings.broker_url is None:
        raise ConfigError("beat sends work through the broker: set IMPLEMENTOR_BROKER_URL (redis://...)")
    from implementor.workers.client import check_redis

    check_redis(settings.broker_url.get_secret_value())
    from implementor.workers.beat import MAX_INTERVAL_S
    from implementor.workers.worker import app

    settings.beat_health_path.parent.mkdir(parents=True, exist_ok=True)  # the heartbeat; the schedule is in Redis
    app.start(["beat", "--loglevel", settings.log_level,
               "--scheduler", "implementor.workers.beat:LeaderScheduler", "--max-interval", str(MAX_INTERVAL_S)])
