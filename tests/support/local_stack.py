"""A local stack on this machine: a redis-server on a free port and a Celery worker process on it.

The integration tests and the queue benchmark both need the real thing, not a stand-in: a Redis
server they own and a worker subprocess started the way the stack starts it. This module does both,
and cleans up after itself. It is scaffolding, not serving code, so it lives with the benchmarks
(which the images carry, unlike `tests/`), and the tests import it from here.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import SecretStr

from implementor.config.settings import Settings
from implementor.workers.client import JobClient, stack_client
from implementor.workers.names import GPU_QUEUE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A throwaway redis-server bound to 127.0.0.1; with `appendonly`, it keeps its data across restarts
    (an append-only file in `workdir`, synced every write, as the stack's compose file has it)."""

    def __init__(self, workdir: Path, port: int | None = None, appendonly: bool = False) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        import redis

        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.appendonly else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *persistence,
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    server = RedisServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def children(pid: int) -> list[int]:
    """Process ids of a process's direct children (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def start_worker(broker_url: str, env: dict[str, str], log_path: Path, concurrency: int = 1,
                 name: str | None = None) -> subprocess.Popen[bytes]:
    """A prefork worker process on the `gpu` queue, started like the stack starts it (its own process group)."""
    full_env = {**os.environ, **env, "IMPLEMENTOR_BROKER_URL": broker_url}
    with log_path.open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "celery", "-A", "implementor.workers.worker", "worker",
                                 "-Q", GPU_QUEUE,
                                 "-P", "prefork", "-c", str(concurrency), "-n", name or f"local{os.getpid()}@%h",
                                 "--loglevel", "INFO"], env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def kill_process_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process's children, then the process: a dead machine, not a shutdown."""
    for child in children(process.pid):
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.kill()
    process.wait(timeout=10)


@contextmanager
def worker_process(broker_url: str, env: dict[str, str], log_path: Path, concurrency: int = 1,
                   start_timeout: float = 60.0) -> Iterator[tuple[JobClient, subprocess.Popen[bytes]]]:
    """A prefork worker on the `gpu` queue, started like the stack starts it, and a client for it."""
    worker = start_worker(broker_url, env, log_path, concurrency)
    fields = {k.removeprefix("IMPLEMENTOR_").lower(): v for k, v in env.items() if k.startswith("IMPLEMENTOR_")}
    client = stack_client(Settings.model_validate({**fields, "broker_url": SecretStr(broker_url)}))
    try:
        deadline = time.monotonic() + start_timeout
        while not client.app.control.ping(timeout=0.5):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"the worker did not start; see {log_path}")
        yield client, worker
    finally:
        client.close()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
