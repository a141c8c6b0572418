"""The embedded default: the real app and tasks, with a worker thread in this process.

With no broker configured, `implementor introduce` and `implementor project` start a Celery worker
in a thread, on kombu's in-memory transport and an in-memory result backend, and submit their job to
it through the same client the bot uses. Nothing is faked: the message is serialised as JSON,
buffered by celery-batches, run by the task and recorded in the (in-memory) ledger.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from implementor.config.settings import Settings
from implementor.contracts.errors import ConfigError
from implementor.workers.app import create_app
from implementor.workers.client import JobClient
from implementor.workers.ledger import Ledger, MemoryLedger
from implementor.workers.names import GPU_QUEUE


@contextmanager
def embedded_worker(settings: Settings, start_timeout: float = 30.0, ledger: Ledger | None = None,
                    poll_s: float | None = None) -> Iterator[JobClient]:
    """A JobClient whose jobs run in a worker thread of this process; the worker stops on exit.

    Results are recorded in `ledger` (a fresh in-memory one by default). `poll_s` overrides how often
    the worker looks at the in-memory queue (the benchmark's "before" path uses kombu's default, 1 s).
    """
    if settings.broker_url is not None:
        raise ConfigError("the embedded worker is for running without a broker; IMPLEMENTOR_BROKER_URL is set")
    ledger = ledger or MemoryLedger()
    app = create_app(settings, ledger)
    if poll_s is not None:
        app.conf.broker_transport_options = {**app.conf.broker_transport_options, "polling_interval": poll_s}
    started = threading.Event()

    class Worker(app.WorkController):  # type: ignore[name-defined]
        def on_consumer_ready(self, consumer) -> None:
            super().on_consumer_ready(consumer)
            started.set()

    worker = Worker(app=app, pool="solo", concurrency=1, queues=[GPU_QUEUE], loglevel="WARNING",
                    without_heartbeat=True, without_mingle=True, without_gossip=True)
    thread = threading.Thread(target=worker.start, name="embedded-worker", daemon=True)
    thread.start()
    try:
        if not started.wait(start_timeout):
            raise ConfigError(f"the embedded worker did not start within {start_timeout:.0f} s")
        yield JobClient(app, ledger)  # a withdrawal is recorded where the worker admits jobs
    finally:
        worker.stop(in_sighandler=False)
        thread.join(timeout=10)
