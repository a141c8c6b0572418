"""The module a Celery worker is started from: `celery -A workers.worker worker -Q gpu` (or `implementor worker`).

On a broker, the worker also beats and names itself as the holder of each job it takes
(`workers/liveness.py`), so that the bot notices within seconds if it dies.
"""

from __future__ import annotations

import redis

from config import get_settings, setup_logging
from workers import liveness
from workers.app import create_app

settings = get_settings()
setup_logging(settings.log_level)
app = create_app(settings)
if settings.broker_url is not None:
    liveness.watch(app, redis.Redis.from_url(settings.broker_url.get_secret_value(), socket_timeout=5),
                   settings.result_ttl_s)
