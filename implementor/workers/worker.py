"""The module a Celery worker is started from: `celery -A implementor.workers.worker worker -Q gpu`
(or `implementor worker`).

On a broker, the worker also beats and names itself as the holder of each job it takes
(`implementor/workers/liveness.py`), so that the bot notices within seconds if it dies. Its main process serves
the metrics (`IMPLEMENTOR_WORKER_METRICS_PORT`), set up when the worker starts, before its pool forks;
beat, which imports this module too, serves none.
"""

from __future__ import annotations

from typing import Any

import redis
from celery.signals import worker_init, worker_process_shutdown

from implementor.config import get_settings, setup_logging
from implementor.workers import liveness, metrics
from implementor.workers.app import create_app

settings = get_settings()
setup_logging(settings.log_level, settings.log_format)
app = create_app(settings)
if settings.broker_url is not None:
    liveness.watch(app, redis.Redis.from_url(settings.broker_url.get_secret_value(), socket_timeout=5),
                   settings.result_ttl_s)


@worker_init.connect
def _serve_metrics(**_: Any) -> None:
    if settings.worker_metrics_port is not None:
        metrics.serve(settings.worker_metrics_port)


@worker_process_shutdown.connect
def _forget_process(pid: int | None = None, **_: Any) -> None:
    if pid is not None:
        metrics.process_gone(pid)
