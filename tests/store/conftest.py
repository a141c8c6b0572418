"""The store on a real SQLite file in tmp_path, opened as every process opens it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from implementor.store.database import Store


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store(tmp_path / "bot.sqlite3").open()
    yield opened
    await opened.close()
