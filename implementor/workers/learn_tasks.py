"""The learner's tasks, on the `learn` queue: a harvest (the bot asks for one after `/learn enable`), the
removal of opted-out members' rows (the bot asks after `/learn optout`), and a whole learning cycle (the
`beat` service sends one every `learn_interval_h`).

They are acknowledged when received, not when done: a cycle runs for minutes to hours, longer than
the broker's visibility timeout, and a cycle lost to a crash costs nothing but waiting for the next
one. Their time limits are their own, not the model jobs'.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from celery import Celery

from implementor.config.settings import Settings
from implementor.workers.names import FORGET_TASK, HARVEST_TASK, LEARN_TASK

log = logging.getLogger(__name__)
HARVEST_LIMIT_S, LEARN_LIMIT_S, FORGET_LIMIT_S = 3600, 6 * 3600, 600


def register_learning_tasks(app: Celery) -> dict[str, Any]:
    options = {"bind": True, "acks_late": False, "ignore_result": False}

    @app.task(name=HARVEST_TASK, time_limit=HARVEST_LIMIT_S, soft_time_limit=HARVEST_LIMIT_S - 60, **options)
    def harvest(self: Any) -> dict[str, Any]:
        from implementor.learning.harvest_job import run_harvest

        settings: Settings = self.app.conf.implementor_settings
        return {str(k): v for k, v in asyncio.run(run_harvest(settings)).items()}

    @app.task(name=LEARN_TASK, time_limit=LEARN_LIMIT_S, soft_time_limit=LEARN_LIMIT_S - 60, **options)
    def learn(self: Any) -> dict[str, Any]:
        from implementor.learning.cycle import learn_once

        return learn_once(self.app.conf.implementor_settings)

    @app.task(name=FORGET_TASK, time_limit=FORGET_LIMIT_S, soft_time_limit=FORGET_LIMIT_S - 60, **options)
    def forget(self: Any) -> dict[str, int]:
        from implementor.learning.optouts import apply_pending

        settings: Settings = self.app.conf.implementor_settings
        removed = asyncio.run(apply_pending(settings))
        return {str(member): rows for member, rows in removed.items()}

    return {"harvest": harvest, "learn": learn, "forget": forget}
