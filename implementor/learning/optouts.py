"""Opt-outs, carried out by the learner: a member who opted out (`/learn optout`) leaves the harvested sets.

The bot records the opt-out in the store and asks for `implementor.forget` on the `learn` queue; the
learner, which alone holds the learning volume, removes the member's rows (`datasets.forget`) and
records that it did (`LearningStore.forgotten`). What is pending is read from the store, not from the
message: a message lost, or sent while the learner was down, costs nothing, because every learning
cycle applies the pending opt-outs first, and so does the learner's next `implementor.forget`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from implementor.config.settings import Settings
from implementor.store import datasets
from implementor.store.consent import LearningStore

log = logging.getLogger(__name__)


async def apply_optouts(learning: LearningStore, learning_dir: Path) -> dict[int, int]:
    """Remove each pending opted-out member's rows; returns the rows removed per member."""
    removed: dict[int, int] = {}
    for member in await learning.optouts_to_apply():
        removed[member] = await asyncio.to_thread(datasets.forget, learning_dir, member)
        await learning.forgotten(member)
    if removed:
        log.info("opt-outs applied: %d members, %d harvested rows removed", len(removed), sum(removed.values()))
    return removed


async def apply_pending(settings: Settings) -> dict[int, int]:
    """`apply_optouts` on the learner's own connection to the store, in its learning directory."""
    learning = await LearningStore.open(settings.store_target)
    try:
        return await apply_optouts(learning, settings.learning_dir)
    finally:
        await learning.close()
