"""Healthchecks for the stack's containers: `implementor health bot`, `... worker` and `... beat`.

Each prints one line and exits 0 when healthy, 1 when not, so compose (and Kubernetes) can use them.
- bot: the health file it writes after every reconciler pass is fresh, and the gateway is connected;
- worker: the worker named after this host answers a control ping within a few seconds (its main
  process answers even while a batch keeps the models busy, so a long job is not mistaken for death);
- beat: its heartbeat (written at every tick, at least once a minute) is fresh, and Redis answers; a
  standby waiting for the leader's lease is healthy (it is what lets beat survive the leader's death).
"""

from __future__ import annotations

import json
import socket
import time
from typing import Annotated

import typer

from implementor.config import get_settings


def bot(
    max_age: Annotated[float, typer.Option(help="Seconds since the last reconciler pass that still count.")] = 60.0,
) -> None:
    """Is the bot connected, and is its reconciler going round?"""
    settings = get_settings()
    path = settings.bot_health_path
    try:
        health = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        typer.echo(f"unhealthy: no health file at {path} (the bot has not finished a reconciler pass)")
        raise typer.Exit(1) from None
    lag = time.time() - float(health.get("time", 0))
    problems = [f"reconciler last ran {lag:.0f} s ago"] if lag > max_age else []
    if not health.get("gateway_ready"):
        problems.append("not connected to Discord")
    broker = "reachable" if health.get("broker_ok") else "unreachable"
    workers = health.get("workers")
    line = (f"reconciler lag {lag:.1f} s, {health.get('open_jobs', '?')} open jobs, broker {broker}, "
            f"{'?' if workers is None else workers} workers serving")
    if problems:
        typer.echo("unhealthy: " + "; ".join(problems) + f" ({line})")
    elif health.get("no_worker_since") is not None:  # the bot itself is fine: it says so, and stays up
        idle = time.time() - float(health["no_worker_since"])
        typer.echo(f"degraded: no worker has served the queue for {idle:.0f} s; requests wait ({line})")
    else:
        typer.echo(f"healthy: {line}")
    raise typer.Exit(1 if problems else 0)


def worker(
    queue: Annotated[str, typer.Option(help="The queue the worker was started for (its name's first part).")] = "gpu",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 5.0,
) -> None:
    """Does the worker on this host answer?"""
    from implementor.workers.app import create_app

    name = f"{queue}@{socket.gethostname()}"
    app = create_app(get_settings())
    try:
        replies = app.control.ping(destination=[name], timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - a healthcheck reports, it does not crash
        typer.echo(f"unhealthy: cannot ask {name} ({type(exc).__name__}: {exc})")
        raise typer.Exit(1) from None
    if not replies:
        typer.echo(f"unhealthy: {name} did not answer within {timeout:.0f} s")
        raise typer.Exit(1)
    typer.echo(f"healthy: {name} answered")


def beat(
    max_age: Annotated[float, typer.Option(help="Seconds since beat's last tick that still count.")] = 300.0,
) -> None:
    """Is beat ticking, and can it reach the broker to send the learner its cycles?"""
    settings = get_settings()
    path = settings.beat_health_path
    try:
        heartbeat = json.loads(path.read_text(encoding="utf-8"))
        lag = time.time() - float(heartbeat["time"])
    except (OSError, ValueError, KeyError, TypeError):
        typer.echo(f"unhealthy: no heartbeat at {path} (beat has not ticked yet)")
        raise typer.Exit(1) from None
    problems = [f"beat last ticked {lag:.0f} s ago"] if lag > max_age else []
    if settings.broker_url is not None:
        import redis

        try:
            redis.Redis.from_url(settings.broker_url.get_secret_value(), socket_timeout=3).ping()
        except redis.RedisError as exc:
            problems.append(f"the broker does not answer ({exc})")
    line = f"{_beat_role(heartbeat)}, ticked {lag:.0f} s ago"
    typer.echo(f"unhealthy: {'; '.join(problems)} ({line})" if problems else f"healthy: {line}")
    raise typer.Exit(1 if problems else 0)


def _beat_role(heartbeat: dict[str, object]) -> str:
    """What this beat was doing at its last tick: leading, or waiting behind whom and for how long."""
    role, leader, left = heartbeat.get("role"), heartbeat.get("leader"), heartbeat.get("lease_left_s")
    if role == "leader":
        return f"beat leads and sends the schedule (lease {heartbeat.get('lease_s')} s)"
    if role == "standby":
        behind = "no leader holds the lease; it takes it at its next tick"
        if leader and isinstance(left, float | int):
            behind = f"behind {leader}, whose lease ends in {float(left):.0f} s"
        return f"beat is a standby, sending nothing ({behind})"
    return "beat"
