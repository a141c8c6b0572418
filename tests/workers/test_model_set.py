"""One model set per worker process: both tasks reach the same models, which load once and follow
promoted heads for every task at once (implementor/workers/model_set.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from implementor.config.settings import Settings
from implementor.store import versions
from implementor.workers.app import create_app
from implementor.workers.model_set import ModelSet


def tiny_settings(tiny_env: dict[str, str], **extra: object) -> Settings:
    fields = {key.removeprefix("IMPLEMENTOR_").lower(): value for key, value in tiny_env.items()}
    return Settings(**fields, **extra)  # type: ignore[arg-type]


def test_both_tasks_of_a_worker_share_one_model_set_loaded_once(tiny_env: dict[str, str]) -> None:
    app = create_app(tiny_settings(tiny_env))
    introduce, project = app.tasks["implementor.introduce"], app.tasks["implementor.project"]
    assert introduce is not project
    assert introduce.models is project.models and not introduce.models.loaded
    first = project.pipeline
    assert introduce.models.loaded
    assert introduce.pipeline is first and project.pipeline is first


def test_another_app_has_its_own_set() -> None:
    # Two apps in one process (the tests, the embedded default beside a stack's client) do not share.
    assert create_app(Settings()).conf.implementor_models is not create_app(Settings()).conf.implementor_models


def test_a_set_inherited_over_a_fork_is_loaded_again_in_the_child(tiny_env: dict[str, str]) -> None:
    models = ModelSet(tiny_settings(tiny_env))
    parents = models.pipeline
    models._owner = os.getpid() + 1  # as a forked child sees what its parent loaded
    assert not models.loaded
    assert models.pipeline is not parents and models.loaded


def test_a_promoted_head_reaches_both_tasks_between_batches(tiny_env: dict[str, str], tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    app = create_app(tiny_settings(tiny_env, models_dir=models_dir, model_poll_s=0.001))
    introduce, project = app.tasks["implementor.introduce"], app.tasks["implementor.project"]
    before = introduce.pipeline.reranker
    head = tmp_path / "head"
    shutil.copytree(tiny_env["IMPLEMENTOR_QUALITY_MODEL"], head)
    versions.promote(models_dir, "quality", versions.add(models_dir, "quality", head), "a test")
    project.models.follow_promotions()
    assert introduce.pipeline.reranker is not before
    assert introduce.pipeline.reranker is project.pipeline.reranker


@pytest.mark.parametrize("autoscale, expected_divisor", [("4,1", 4), (None, 1)])
def test_each_process_gets_its_share_of_the_cores(autoscale: str | None, expected_divisor: int) -> None:
    from implementor.workers.model_set import thread_budget

    assert thread_budget(Settings(worker_autoscale=autoscale)) == max(1, (os.cpu_count() or 1) // expected_divisor)


def test_the_spec_serves_the_live_heads_with_their_threshold(tmp_path: Path) -> None:
    from implementor.models.rerank.reranker import BUNDLED_REALISM
    from implementor.workers.model_set import pipeline_spec

    models_dir, head = tmp_path / "models", tmp_path / "head"
    head.mkdir()
    versions.promote(models_dir, "quality", versions.add(models_dir, "quality", head), "a test")
    spec = pipeline_spec(Settings(models_dir=models_dir, quality_model=tmp_path / "own", realism_threshold=0.6))
    assert spec.quality == versions.current_path(models_dir, "quality")  # promoted beats configured
    assert spec.realism == BUNDLED_REALISM and spec.threshold == 0.6
