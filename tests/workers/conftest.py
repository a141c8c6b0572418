"""What the workers' tests on a real stack share: a redis-server on a free port, one per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_stack import RedisServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()
