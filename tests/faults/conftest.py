"""Fixtures of the fault suite: a fake Discord, and stacks of real processes (tests/support/fault_stack.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from fake_discord import FakeDiscord
from fault_stack import Stack, summarise

if shutil.which("redis-server") is None and not os.environ.get("CI"):
    pytest.skip("redis-server is not installed (CI installs it)", allow_module_level=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    summarise(terminalreporter)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    discord = FakeDiscord()
    await discord.start()
    yield discord
    await discord.stop()


@pytest.fixture
def make_stack(tmp_path: Path, fake: FakeDiscord, tiny_env: dict[str, str]) -> Iterator[Any]:
    stacks: list[Stack] = []

    def make(**settings: str) -> Stack:
        stack = Stack(tmp_path / f"stack{len(stacks)}", fake, tiny_env, **settings)
        stack.redis.start()
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()
