"""The one resolver of the live heads (store/live.py): a promoted version first, else the configured
directory, else the bundled head, with the threshold that goes with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from implementor.config.settings import Settings
from implementor.store import versions
from implementor.store.live import live_head, live_heads


def promoted_version(models_dir: Path, kind: str, tmp_path: Path) -> Path:
    checkpoint = tmp_path / f"{kind}-checkpoint"
    checkpoint.mkdir()
    (checkpoint / "card.json").write_text("{}")
    name = versions.add(models_dir, kind, checkpoint)
    versions.promote(models_dir, kind, name, "a test")
    return models_dir / kind / name


def test_nothing_configured_serves_the_bundled_heads_the_reranker_loads() -> None:
    pytest.importorskip("torch", reason="the reranker is the workers' (torch); the bot's run checks the rest")
    from implementor.models.rerank.reranker import BUNDLED_QUALITY, BUNDLED_REALISM

    heads = live_heads(Settings())
    assert (heads.realism.path, heads.quality.path) == (BUNDLED_REALISM, BUNDLED_QUALITY)
    assert heads.realism.source == "bundled realism-minilm" and not heads.realism.promoted
    assert heads.promoted() == {} and heads.threshold == 0.9


def test_a_configured_head_is_served_until_a_version_is_promoted(tmp_path: Path) -> None:
    own, models_dir = tmp_path / "own-quality", tmp_path / "models"
    settings = Settings(quality_model=own, models_dir=models_dir, realism_threshold=0.7)
    assert live_heads(settings).quality.path == own  # an empty models directory promotes nothing
    assert live_heads(settings).quality.source == "configured own-quality"
    live = promoted_version(models_dir, "quality", tmp_path)
    heads = live_heads(settings)
    assert heads.quality.path == live and heads.quality.source == f"live version {live.name}"
    assert heads.promoted() == {"quality": live}  # realism is still the bundled one, not promoted
    assert heads.threshold == 0.7


def test_the_learner_and_the_workers_ask_the_same_question(tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    live = promoted_version(models_dir, "realism", tmp_path)
    assert live_head(models_dir, "realism", tmp_path / "configured").path == live
    assert live_head(None, "realism", tmp_path / "configured").path == tmp_path / "configured"
    assert live_heads(Settings(models_dir=models_dir)).realism == live_head(models_dir, "realism", None)
