"""One learning cycle, as the `beat` service runs it: harvest, then retrain each head that has enough new data.

`implementor learn` and the learner's `implementor.learn` task call `learn_once`. Two cycles never run
at once (a lock file in the learning directory: a second one reports that it skipped). Each cycle
first removes the rows of members who opted out since the last removal (`learning/optouts.py`), and
opted-out members are left out of the training sets again here, whatever the files hold.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
from pathlib import Path
from typing import Any

from implementor.config.settings import Settings
from implementor.contracts.errors import ConfigError
from implementor.store.consent import LearningStore

log = logging.getLogger(__name__)


def spec_from(settings: Settings) -> Any:
    from implementor.learning.retrain import LearnSpec

    if settings.models_dir is None:
        raise ConfigError("retraining keeps versions in a directory: set IMPLEMENTOR_MODELS_DIR")
    return LearnSpec(learning_dir=settings.learning_dir, models_dir=settings.models_dir,
                     quality=settings.quality_model, realism=settings.realism_model, writer=settings.writer_model,
                     engine=settings.writer_engine, threshold=settings.realism_threshold, encoder=settings.encoder,
                     device="cpu" if settings.device == "auto" else settings.device, min_pairs=settings.learn_min_pairs)


async def _opted_out(settings: Settings) -> set[int]:
    """Who opted out; and members' choices among drafts are copied into the harvest (no token needed)."""
    from implementor.learning.harvest_job import export_preferences

    store = await LearningStore.open(settings.store_target)
    try:
        await export_preferences(store.db, settings.learning_dir)
        return await store.opted_out()
    finally:
        await store.close()


def learn_once(settings: Settings, harvest: bool = True) -> dict[str, Any]:
    """Harvest (if a token is set), then retrain each head that has enough new data; a report of each step."""
    from implementor.learning.harvest_job import run_harvest
    from implementor.learning.optouts import apply_pending
    from implementor.learning.retrain import retrain_quality
    from implementor.learning.retrain_realism import retrain_realism

    spec = spec_from(settings)
    settings.learning_dir.mkdir(parents=True, exist_ok=True)
    with Path(settings.learning_dir / ".cycle.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return {"skipped": "another learning cycle is running"}
        # Opt-outs first: a member whose removal message was lost (or came while the learner was down) is
        # removed here, before anything is harvested or trained.
        report: dict[str, Any] = {"optouts": {str(k): v for k, v in asyncio.run(apply_pending(settings)).items()}}
        if harvest and settings.discord_token is not None:
            report["harvest"] = {str(k): v for k, v in asyncio.run(run_harvest(settings)).items()}
        else:
            report["harvest"] = {"skipped": "no IMPLEMENTOR_DISCORD_TOKEN" if harvest else "not asked"}
        opted_out = asyncio.run(_opted_out(settings))
        report["quality"] = retrain_quality(spec, opted_out)
        report["realism"] = retrain_realism(spec, opted_out)
    log.info("learning cycle: %s", report)
    return report
