"""One harvest, wired: the bot's token and store, discord.py's HTTP client, and the colleague's jobs.

`implementor harvest` and the learner's `implementor.harvest` task both call `run_harvest`. It logs in
over REST only (no gateway), so it runs beside the bot without taking its session; it reads consent
and the colleague's jobs from the bot's store (`IMPLEMENTOR_STORE_URL`: a SQLite file the learner then
shares with the bot, the `bot-data` volume in docker-compose.yml, or PostgreSQL on any host). It reads
the bot's job book and ratings through `replies.posted_reply`, never with SQL of its own; and it copies
members' choices among drafts (`store/preferences.py`) into the harvest, beside the pairs, for retraining.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import discord

from implementor.config.settings import Settings
from implementor.contracts.errors import ConfigError
from implementor.learning.harvest import PAGE, ColleagueJob, Harvest
from implementor.store.connection import Database
from implementor.store.consent import LearningStore
from implementor.store.datasets import PREFERENCES, append_new, harvest_dir
from implementor.store.preferences import Preferences
from implementor.store.replies import posted_reply

log = logging.getLogger(__name__)


async def colleague_job(db: Database, message_id: int) -> ColleagueJob | None:
    """The project job whose result is this message (from the job book), with members' ratings of it."""
    posted = await posted_reply(db, message_id)
    if posted is None or not posted.result.reply:
        return None
    chosen = next((c for c in posted.result.candidates if c.chosen), None)
    return ColleagueJob(posted.request, posted.result.reply, posted.asker,
                        up={member for member, rating in posted.ratings.items() if rating >= 4},
                        down={member for member, rating in posted.ratings.items() if rating <= 2},
                        propensity=chosen.propensity if chosen else None, explored=posted.result.explored)


async def export_preferences(db: Database, learning_dir: Path) -> int:
    """Copy members' choices among drafts into the harvest (new ones only); returns how many were new. The
    store is at the newest schema (opening migrates SQLite, or refuses a PostgreSQL store that is behind)."""
    rows = [p.row() for p in await Preferences(db).all()]
    folder = harvest_dir(learning_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return append_new(folder / PREFERENCES, rows, key="key")


async def run_harvest(settings: Settings, pause_s: float = 0.2, page: int = PAGE) -> dict[int, dict[str, Any]]:
    """Harvest every enabled channel once; returns each channel's counts (read, kept, dropped by reason)."""
    if settings.discord_token is None:
        raise ConfigError("harvesting reads Discord: set IMPLEMENTOR_DISCORD_TOKEN (the bot's token)")
    import asyncio

    http = discord.http.HTTPClient(asyncio.get_running_loop())
    learning = await LearningStore.open(settings.store_target)
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
