"""One harvest, wired: the bot's token and store, discord.py's HTTP client, and the colleague's jobs.

`implementor harvest` and the learner's `implementor.harvest` task both call `run_harvest`. It logs in
over REST only (no gateway), so it runs beside the bot without taking its session; it reads consent
and the colleague's jobs from the bot's SQLite store (`IMPLEMENTOR_BOT_STORE_PATH`), which the learner
therefore shares with the bot (the `bot-data` volume in docker-compose.yml). It reads the bot's job
book and ratings through `jobbook.posted_reply`, never with SQL of its own; and it copies members'
choices among drafts (`store/preferences.py`) into the harvest, beside the pairs, for retraining.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import aiosqlite
import discord

from implementor.config.settings import Settings
from implementor.contracts.errors import ConfigError
from implementor.learning.harvest import PAGE, ColleagueJob, Harvest
from implementor.store.consent import LearningStore
from implementor.store.datasets import PREFERENCES, append_new, harvest_dir
from implementor.store.jobbook import posted_reply
from implementor.store.preferences import Preferences

log = logging.getLogger(__name__)


async def colleague_job(db: aiosqlite.Connection, message_id: int) -> ColleagueJob | None:
    """The project job whose result is this message (from the job book), with members' ratings of it."""
    posted = await posted_reply(db, message_id)
    if posted is None or not posted.result.reply:
        return None
    chosen = next((c for c in posted.result.candidates if c.chosen), None)
    return ColleagueJob(posted.request, posted.result.reply, posted.asker,
                        up={member for member, rating in posted.ratings.items() if rating >= 4},
                        down={member for member, rating in posted.ratings.items() if rating <= 2},
                        propensity=chosen.propensity if chosen else None, explored=posted.result.explored)


async def export_preferences(db: aiosqlite.Connection, learning_dir: Path) -> int:
    """Copy members' choices among drafts into the harvest (new ones only); returns how many were new."""
    try:
        rows = [p.row() for p in await Preferences(db).all()]
    except aiosqlite.OperationalError:  # a store the bot never migrated this far: no choices yet
        return 0
    folder = harvest_dir(learning_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return append_new(folder / PREFERENCES, rows, key="key")


async def run_harvest(settings: Settings, pause_s: float = 0.2, page: int = PAGE) -> dict[int, dict[str, Any]]:
    """Harvest every enabled channel once; returns each channel's counts (read, kept, dropped by reason)."""
    if settings.discord_token is None:
        raise ConfigError("harvesting reads Discord: set IMPLEMENTOR_DISCORD_TOKEN (the bot's token)")
    import asyncio

    http = discord.http.HTTPClient(asyncio.get_running_loop())
    learning = await LearningStore.open(settings.bot_store_path)
    try:
        try:
            me = await http.static_login(settings.discord_token.get_secret_value())
        except discord.LoginFailure:
            raise ConfigError("Discord refused IMPLEMENTOR_DISCORD_TOKEN; paste the bot's token again") from None
        harvest = Harvest(http, int(me["id"]), learning, settings.learning_dir,
                          jobs=lambda message_id: colleague_job(learning.db, message_id),
                          max_messages=settings.harvest_max_messages, pause_s=pause_s, page=page)
        counts = await harvest.run()
        await export_preferences(learning.db, settings.learning_dir)
    finally:
        await http.close()
        await learning.close()
    log.info("harvest: %d channels, %s", len(counts), counts)
    return counts
