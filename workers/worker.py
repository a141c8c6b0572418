"""The module a Celery worker is started from: `celery -A workers.worker worker -Q gpu` (or `implementor worker`)."""

from __future__ import annotations

from config import get_settings, setup_logging
from workers.app import create_app

settings = get_settings()
setup_logging(settings.log_level, settings.log_format)
app = create_app(settings)
