"""The store on both of its backends, opened as every process opens it: a real SQLite file in tmp_path, and a
fresh database on a real PostgreSQL server (`tests/support/postgres_server.py`), migrated as
`implementor migrate` does it. A test that takes `store` or `store_url` runs on each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from postgres_server import PostgresServer

from implementor.store.database import Store
from implementor.store.opening import migrate_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's address: a SQLite file, or a PostgreSQL database of the test's own."""
    if request.param == "sqlite":
        return str(tmp_path / "bot.sqlite3")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.fresh()


@pytest_asyncio.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    if store_url.startswith("postgresql://"):
        await migrate_store(store_url)  # a PostgreSQL store is migrated once, before anything opens it
    opened = await Store(store_url).open()
    yield opened
    await opened.close()
