"""A throwaway PostgreSQL server for the tests: Debian's own binaries, started on a free port, no Docker.

One server per test session (`postgres_server`), a fresh database per test (`PostgresServer.fresh`). The
server runs with its durability off (`fsync`, `synchronous_commit`, `full_page_writes`): a test's data need
not survive a power cut, and a commit then costs no disk flush. It listens on 127.0.0.1 only, with trust
authentication, and keeps its unix socket in its own directory.

`initdb` and `pg_ctl` refuse to run as root: where the tests run as root (containers, CI) the server runs
as the `postgres` user Debian's package creates, in a directory made for it; otherwise as the current user.
Where PostgreSQL is not installed the tests that need it skip, saying why; in CI (`CI` set, as `.ci/run`
does, which installs it) they fail instead, so that a missing server never passes for a green run.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_stack import free_port

SETTINGS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            "-c listen_addresses=127.0.0.1")


def binaries() -> Path | None:
    """Where initdb and pg_ctl are: Debian keeps them in /usr/lib/postgresql/<version>/bin, off the PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


class PostgresServer:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir, self.port = bin_dir, free_port()
        self.as_user = "postgres" if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="implementor-pg-"))  # not under pytest's root-only tmp
        self.data, self.sockets, self.log = self.root / "data", self.root / "sockets", self.root / "server.log"
        self.names = itertools.count(1)

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_user is not None:
            command = ["runuser", "-u", self.as_user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        self.sockets.mkdir()
        if self.as_user is not None:
            user = pwd.getpwnam(self.as_user)
            for path in (self.root, self.sockets):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync",
                  "--no-instructions")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", f"{SETTINGS} -p {self.port} -k {self.sockets}", "start")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def fresh(self) -> str:
        """A new, empty database of its own (a test's): its URL."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self.names)}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = binaries()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed, and CI must test the PostgreSQL store (.ci/run installs it)")
        pytest.skip("PostgreSQL is not installed here (apt-get install postgresql): the PostgreSQL store is untested")
    server = PostgresServer(bin_dir)
    try:
        server.start()
    except BaseException:
        shutil.rmtree(server.root, ignore_errors=True)
        raise
    try:
        yield server
    finally:
        server.stop()
