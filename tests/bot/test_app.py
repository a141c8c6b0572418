"""The bot as a whole: what it imports, the intents it asks for, what setup_hook wires and registers, and
the health file each reconciler pass leaves for the stack's healthcheck."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from bot_fake_queue import FakeJobs

from implementor.bot.app import ImplementorBot, intents
from implementor.bot.poster import Poster
from implementor.bot.views import ACTIONS
from implementor.config.settings import Settings


def test_the_bot_never_imports_torch_or_the_models() -> None:
    code = ("import sys, implementor.bot.app, implementor.cli.bot_commands; "
            "bad = [m for m in ('torch', 'transformers', 'models') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_bot_asks_for_no_privileged_intents() -> None:
    chosen = intents()
    assert not chosen.message_content and not chosen.members and not chosen.presences
    assert chosen.guilds and chosen.guild_messages


async def test_setup_loads_every_cog_and_the_persistent_buttons(bot: ImplementorBot) -> None:
    assert set(bot.cogs) == {"Introduce", "Team", "Project", "Conversation", "Feedback", "Learn", "Settings", "Help"}
    assert len(bot.dynamic_items) == 2  # one button class, carrying every action, and the drafts' menu
    assert set(ACTIONS) == {"cancel", "why", "rate", "delete", "regen", "follow"}
    assert bot.wiring is not None
    assert bot.dynamic_items == (*bot.wiring.buttons.dynamic_items, bot.wiring.menus.item)
    assert bot.allowed_mentions is not None and bot.allowed_mentions.to_dict() == {"parse": []}


async def test_the_parts_share_one_book_queue_and_poster_and_post_through_the_bot(bot: ImplementorBot,
                                                                                 jobs: FakeJobs) -> None:
    wiring = bot.wiring
    assert wiring is not None
    runner, reconciler = wiring.runner, wiring.reconciler
    assert runner.book is reconciler.book is bot.store.jobs and runner.jobs is reconciler.jobs is jobs
    assert runner.reconciler is reconciler and runner.poster is reconciler.poster
    assert isinstance(reconciler.poster, Poster) and reconciler.poster.client is bot
    assert reconciler.interval_s == bot.settings.reconcile_interval_s
    assert reconciler.expire_after_s == bot.settings.result_ttl_s


async def test_each_reconciler_pass_writes_the_health_file(bot: ImplementorBot, settings: Settings) -> None:
    assert bot.wiring is not None
    await bot.wiring.reconciler.pass_once()
    health = json.loads(settings.bot_health_path.read_text(encoding="utf-8"))
    assert health["open_jobs"] == 0 and health["broker_ok"] is True and health["gateway_ready"] is False
    assert health["time"] > 0
    assert health["workers"] == 1 and health["no_worker_since"] is None


async def test_with_no_worker_the_health_check_says_degraded_and_stays_up(bot: ImplementorBot, jobs: FakeJobs,
                                                                         settings: Settings,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from implementor.cli.main import app

    assert bot.wiring is not None
    jobs.workers = 0
    await bot.wiring.reconciler.pass_once()
    health = json.loads(settings.bot_health_path.read_text(encoding="utf-8"))
    assert health["workers"] == 0 and health["no_worker_since"] is not None
    # as a connected bot writes it, now (this test has no gateway, and its clock is the test's)
    health.update(gateway_ready=True, time=time.time(), no_worker_since=time.time() - 90)
    settings.bot_health_path.write_text(json.dumps(health), encoding="utf-8")
    monkeypatch.setenv("IMPLEMENTOR_BOT_STORE_PATH", str(settings.bot_store_path))  # the health file is beside it
    done = CliRunner().invoke(app, ["health", "bot", "--max-age", "3600"])
    assert done.exit_code == 0 and done.output.startswith("degraded: no worker has served the queue for ")
    assert "0 workers serving" in done.output


async def test_a_drain_refuses_new_requests_finishes_the_pass_and_closes(bot: ImplementorBot) -> None:
    from implementor.contracts.errors import RateLimited
    from implementor.contracts.jobs import ProjectJob

    assert bot.wiring is not None and bot._reconciling is not None
    await bot.drain(grace_s=5)
    assert bot._reconciling.done() and not bot._reconciling.cancelled()  # it returned: its pass was finished
    assert bot.wiring.reconciler.stopping and bot.is_closed()
    with pytest.raises(RateLimited, match="restarting"):
        await bot.wiring.runner.accept(ProjectJob(request="Could someone help us plan the spring launch?"), 42, 7, 500)
