"""Celery beat's scheduler, with a heartbeat for the stack's healthcheck (`implementor health beat`).

Beat sends the learner a cycle only every `learn_interval_h`; between two sends nothing shows that
it is alive. This scheduler is Celery's persistent one (the schedule survives restarts, in the
learning volume) that also writes the time to `Settings.beat_health_path` at every tick. Beat ticks
at least every `MAX_INTERVAL_S` (`implementor beat` passes it), so a heartbeat older than a few
intervals means beat is stuck or gone.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler

log = logging.getLogger(__name__)
MAX_INTERVAL_S = 60  # beat's longest sleep between ticks (Celery's default is 300)


def write_heartbeat(path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"time": time.time()}), encoding="utf-8")
    tmp.replace(path)


class HeartbeatScheduler(PersistentScheduler):
    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval = float(super().tick(*args, **kwargs))
        settings = getattr(self.app.conf, "implementor_settings", None)
        if settings is not None:
            try:
                write_heartbeat(settings.beat_health_path)
            except OSError as exc:
                log.warning("could not write beat's heartbeat %s: %s", settings.beat_health_path, exc)
        return interval
