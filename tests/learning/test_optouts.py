"""Opt-outs carried out by the learner (implementor/learning/optouts.py): a learning cycle removes the rows of
every member who opted out since the last removal, first, so a lost `implementor.forget` costs nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from implementor.config.settings import Settings
from implementor.learning.cycle import learn_once
from implementor.store.consent import LearningStore
from implementor.store.datasets import TEXTS, harvest_dir, read_rows


async def _opt_out(store_path: Path, member: int) -> list[int]:
    learning = await LearningStore.open(store_path)
    try:
        await learning.opt_out(member)
        return await learning.optouts_to_apply()
    finally:
        await learning.close()


def test_a_learning_cycle_applies_the_pending_optouts_first(tmp_path: Path) -> None:
    settings = Settings(bot_store_path=tmp_path / "bot.sqlite3", learning_dir=tmp_path / "learning",
                        models_dir=tmp_path / "models")
    harvest_dir(settings.learning_dir).mkdir(parents=True)
    rows = [{"message_id": 1, "author": 42, "context_author": None}, {"message_id": 2, "author": 43,
                                                                      "context_author": 42}]
    (harvest_dir(settings.learning_dir) / TEXTS).write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert asyncio.run(_opt_out(settings.bot_store_path, 42)) == [42]
    report = learn_once(settings, harvest=False)
    assert report["optouts"] == {"42": 2}
    assert read_rows(harvest_dir(settings.learning_dir) / TEXTS) == []
    assert learn_once(settings, harvest=False)["optouts"] == {}  # done once, recorded
