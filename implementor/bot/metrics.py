"""The bot's Prometheus metrics, served on `IMPLEMENTOR_BOT_METRICS_PORT` (`/metrics`).

    implementor_bot_requests_total{kind}            requests accepted (introduce, project)
    implementor_bot_refusals_total{reason}          requests refused privately: cooldown, member (their cap),
                                                    queue_full, broker_unreachable, restarting
    implementor_bot_jobs_open                       jobs open in the book when the last pass began
    implementor_bot_reconciler_lag_seconds          seconds since the reconciler last finished a pass
    implementor_bot_time_to_answer_seconds{kind}    from a request accepted to its result posted

Each `BotMetrics` has its own registry (tests build several in one process); the bot's parts get it
as an argument and record into it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

# Answers take seconds (a batch on a GPU) to many minutes (a long queue); the buckets cover both.
ANSWER_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)


class BotMetrics:
    def __init__(self, registry: CollectorRegistry | None = None, clock: Callable[[], float] = time.time) -> None:
        self.registry = registry or CollectorRegistry()
        self.clock = clock
        self.requests = Counter("implementor_bot_requests", "Requests accepted, by kind.", ["kind"],
                                registry=self.registry)
        self.refusals = Counter("implementor_bot_refusals", "Requests refused privately, by reason.", ["reason"],
                                registry=self.registry)
        self.workers = Gauge("implementor_bot_live_workers", "Worker processes serving the queue at the last pass "
                             "(0: requests wait, and are refused after IMPLEMENTOR_NO_WORKER_REFUSE_S).",
                             registry=self.registry)
        self.jobs_open = Gauge("implementor_bot_jobs_open", "Jobs open in the book when the last pass began.",
                               registry=self.registry)
        self.last_pass = clock()  # lag counts from start-up until the first pass
        lag = Gauge("implementor_bot_reconciler_lag_seconds", "Seconds since the reconciler last finished a pass.",
                    registry=self.registry)
        lag.set_function(lambda: self.clock() - self.last_pass)
        self.time_to_answer = Histogram("implementor_bot_time_to_answer_seconds",
                                        "From a request accepted to its result posted.", ["kind"],
                                        buckets=ANSWER_BUCKETS, registry=self.registry)

    def passed(self, open_jobs: int, finished_at: float, workers: int | None = None) -> None:
        self.jobs_open.set(open_jobs)
        self.last_pass = finished_at
        if workers is not None:
            self.workers.set(workers)

    def serve(self, port: int, addr: str = "0.0.0.0") -> Any:
        """Serve `/metrics` on the port, in a thread of this process; returns the server (to shut down)."""
        server, _thread = start_http_server(port, addr, registry=self.registry)
        return server
