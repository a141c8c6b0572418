"""The Celery app: created from settings, configured for long GPU jobs, routing model work to `gpu`.

Following the `next-steps` layout in Celery's docs, this module does three things: it creates the
app, applies configuration derived from our settings, and routes tasks to queues.

Reliability, for jobs that hold a GPU for seconds to minutes:
- `acks_late` with `reject_on_worker_lost`: a job is acknowledged only when it finished, and one whose
  worker process died goes back to the queue (the job ledger stops it after `max_attempts`);
- prefetch: a worker holds at most one batch of unacknowledged jobs (`batch_max_size`, or 1 without
  batching), so idle workers are not starved by a busy one;
- hard and soft time limits, and a visibility timeout above twice the hard limit (a taken job may
  wait for one batch, then run), set in all three places Celery and kombu read it (app config,
  broker and result-backend transport options), so Redis never hands a running job to a second
  worker; a dead worker's messages come back within the timeout plus `RESTORE_INTERVAL_S`, but its
  jobs are resubmitted long before, once its heartbeat lapses (`implementor/workers/liveness.py`);
- JSON only, in and out; results expire.

Learning (`implementor/workers/learn_tasks.py`) has its own queue, `learn`, served by one learner process beside
the bot's store; Celery beat (the `beat` service, one leader among several: implementor/workers/beat.py) sends
it `implementor.learn` every `learn_interval_h`.

With no broker configured, the same app runs on kombu's in-memory transport (the embedded default).
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from implementor.config.settings import Settings, get_settings
from implementor.workers.ledger import Ledger, MemoryLedger
from implementor.workers.metrics import WorkerMetrics
from implementor.workers.model_set import ModelSet
from implementor.workers.names import CPU_QUEUE, GPU_QUEUE, LEARN_QUEUE, LEARN_TASK, LEARN_TASKS, MODEL_TASKS

RESTORE_INTERVAL_S = 10


EMBEDDED_POLL_S = 0.01


def _memory_polling(settings: Settings) -> dict[str, float]:
    """The in-memory broker is polled, every second by kombu's default: half a second added to an
    average `introduce` or `project`. Polling a queue in this process's memory is cheap, so poll often.
    (Redis is not polled: the worker waits on its socket.)"""
    return {} if settings.broker_url else {"polling_interval": EMBEDDED_POLL_S}


def _beat_config(settings: Settings, broker: str) -> dict[str, Any]:
    """Where beat keeps its schedule and leader's lease: Redis, shared by every beat (implementor/workers/beat.py)."""
    if not settings.broker_url:
        return {}
    return {"redbeat_redis_url": broker, "redbeat_redis_options": {}, "redbeat_key_prefix": "implementor:beat:",
            "redbeat_lock_key": "implementor:beat:leader", "redbeat_lock_timeout": settings.beat_lock_timeout_s}


def celery_config(settings: Settings) -> dict[str, Any]:
    """Every Celery setting we choose, from our settings; pure, so tests can read it."""
    # The embedded broker is named with a host: kombu warns about a URL without one.
    broker = settings.broker_url.get_secret_value() if settings.broker_url else "memory://localhost/"
    backend = settings.broker_url.get_secret_value() if settings.broker_url else "cache+memory://"
    visibility = {"visibility_timeout": settings.visibility_timeout}
    return {
        "broker_url": broker,
        "result_backend": backend,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_routes": {**{name: {"queue": GPU_QUEUE} for name in MODEL_TASKS},
                        **{name: {"queue": LEARN_QUEUE} for name in LEARN_TASKS}},
        # The `beat` service: harvest, then retrain when enough is new, every `learn_interval_h`.
        "beat_schedule": {"learn": {"task": LEARN_TASK, "schedule": settings.learn_interval_h * 3600,
                                    "options": {"queue": LEARN_QUEUE, "expires": settings.learn_interval_h * 3600}}},
        **_beat_config(settings, broker),
        "task_default_queue": CPU_QUEUE,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # A batch is only as large as the jobs a worker may hold unacknowledged (celery-batches' rule).
        "worker_prefetch_multiplier": settings.batch_max_size,
        "task_time_limit": settings.task_time_limit_s,
        "task_soft_time_limit": settings.task_soft_time_limit_s,
        "visibility_timeout": settings.visibility_timeout,
        # kombu looks for jobs whose visibility timeout has passed every interval x throttle seconds
        # (100 s by default); every 10 s bounds a dead worker's jobs by the timeout plus 10 s.
        "broker_transport_options": {**visibility, "unacked_restore_interval": RESTORE_INTERVAL_S,
                                     "unacked_restore_throttle": 1, **_memory_polling(settings)},
        "result_backend_transport_options": dict(visibility),
        "result_expires": settings.result_ttl_s,
        "task_track_started": True,
        "broker_connection_retry_on_startup": True,
        "worker_autoscaler": "implementor.workers.autoscale:GpuAwareAutoscaler",
        "worker_hijack_root_logger": False,
        # Task events (sent, received, started, succeeded, failed) for Flower or `celery events`.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
    }


def create_app(settings: Settings | None = None, ledger: Ledger | None = None) -> Celery:
    """An app configured from settings, with the tasks registered.

    The tasks record results in `ledger`; by default each worker process opens the Redis ledger on
    the broker, and the embedded default (no broker) gets a ledger in this process's memory.
    """
    from implementor.workers.learn_tasks import register_learning_tasks
    from implementor.workers.tasks import register_tasks

    settings = settings or get_settings()
    app = Celery("implementor")
    app.conf.update(celery_config(settings))
    app.conf.implementor_settings = settings
    # One model set per process for every task of this app, loaded on first use (implementor/workers/model_set.py).
    app.conf.implementor_models = ModelSet(settings)
    app.conf.implementor_metrics = WorkerMetrics()  # batch sizes, stage times, drafts passing (metrics.py)
    app.conf.implementor_ledger = ledger if ledger is not None or settings.broker_url else MemoryLedger()
    register_tasks(app, settings)
    register_learning_tasks(app)
    return app
