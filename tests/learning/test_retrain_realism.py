"""The realism head retrained with the server's own words: members' texts against the live writer's drafts,
the corpus as the prior; it becomes a version, calibrated, and goes live only if its held-out AUC is better.
Tiny models (the test twins), so that this runs in seconds."""

from __future__ import annotations

import fcntl
import json
import random
from pathlib import Path

from pydantic import SecretStr

from implementor.config.settings import Settings
from implementor.contracts.records import PairRecord
from implementor.learning.cycle import learn_once
from implementor.learning.retrain import LearnSpec
from implementor.learning.retrain_realism import retrain_realism
from implementor.store import versions
from implementor.store.datasets import TEXTS, harvest_dir
from implementor.training.corpus.splits import load_split


def member_texts(corpus: Path, rows: int, author_of: int = 7) -> list[dict[str, object]]:
    pairs = [r for r in load_split(corpus, "train") if isinstance(r, PairRecord)]
    rng = random.Random(0)
    return [{"message_id": 5000 + i, "author": 300 + i % author_of, "context_author": 400, "at": 1_700_000_000 + i,
             "context": record.request, "text": record.reply, "channel_id": 500, "guild_id": 7}
            for i, record in enumerate(rng.choices(pairs, k=rows))]


def test_a_realism_candidate_is_a_calibrated_version_promoted_only_if_better(
        tiny_env: dict[str, str], mini_corpus: Path, tmp_path: Path) -> None:
    spec = LearnSpec(learning_dir=tmp_path / "learning", models_dir=tmp_path / "models", corpus=mini_corpus,
                     encoder=tiny_env["IMPLEMENTOR_ENCODER"], realism=Path(tiny_env["IMPLEMENTOR_REALISM_MODEL"]),
                     writer=Path(tiny_env["IMPLEMENTOR_WRITER_MODEL"]), engine="torch", min_pairs=20, prior_pairs=12,
                     epochs=5)
    folder = harvest_dir(spec.learning_dir)
    folder.mkdir(parents=True)
    texts = member_texts(mini_corpus, 60)
    (folder / TEXTS).write_text("".join(json.dumps(t) + "\n" for t in texts))

    report = retrain_realism(spec, opted_out={300, 301})  # two of seven members opted out
    kept = sum(t["author"] not in (300, 301) for t in texts)
    assert report["retrained"] and report["real_texts"] == kept and report["version"] == "v0001"
    assert report["held_out"]["texts"] == round(kept * 0.2)
    ours, theirs = report["held_out"]["auc"], report["live_held_out"]["auc"]
    assert report["promoted"] == (ours > theirs + spec.margin)
    assert (versions.current(spec.models_dir, "realism") == "v0001") == report["promoted"]
    card = json.loads((spec.models_dir / "realism" / "v0001" / "card.json").read_text())
    assert {"cv", "reply"} <= set(card["calibration"]) and card["sampling"]["reply"]
    assert card["calibration"]["reply"]["false_rejection"] == 0.1

    if report["promoted"]:  # the live version has seen every text: nothing new, no second candidate
        assert retrain_realism(spec, opted_out={300, 301})["retrained"] is False


def test_two_learning_cycles_never_run_at_once(tmp_path: Path) -> None:
    settings = Settings(learning_dir=tmp_path / "learning", models_dir=tmp_path / "models",
                        bot_store_path=tmp_path / "bot.sqlite3", discord_token=SecretStr("MTAx." + "x" * 60))
    settings.learning_dir.mkdir()
    with (settings.learning_dir / ".cycle.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a cycle already running (the beat's, or an operator's)
        assert learn_once(settings) == {"skipped": "another learning cycle is running"}
