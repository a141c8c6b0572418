"""The tasks' own seams: the ledger they are given, and the celery-batches internals `flush` relies on."""

from __future__ import annotations

from implementor.config.settings import Settings
from implementor.workers.app import create_app
from implementor.workers.ledger import MemoryLedger


def test_the_embedded_app_gets_a_memory_ledger_and_the_stack_none() -> None:
    embedded = create_app(Settings())
    assert isinstance(embedded.conf.implementor_ledger, MemoryLedger)
    given = MemoryLedger()
    assert create_app(Settings(), given).conf.implementor_ledger is given
    stack = create_app(Settings(broker_url="redis://127.0.0.1:1/0"))
    assert stack.conf.implementor_ledger is None  # each worker process opens the Redis ledger itself


def test_celery_batches_still_keeps_the_pool_our_flush_uses() -> None:
    """`ModelTask.flush` calls celery-batches' private `_pool`; pyproject pins the releases that have it."""
    from celery_batches import Batches

    task = create_app(Settings()).tasks["implementor.project"]
    assert hasattr(task, "_pool")
    assert type(task).flush is not Batches.flush


def test_the_workers_pipeline_explores_as_the_settings_say() -> None:
    from implementor.workers.model_set import pipeline_spec

    assert pipeline_spec(Settings()).explore == 0.1  # IMPLEMENTOR_EXPLORE's default
    assert pipeline_spec(Settings(explore=0.0)).explore == 0.0
