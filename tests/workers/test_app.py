"""The Celery configuration, read from the app the workers use."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from implementor.config.settings import Settings
from implementor.workers.app import celery_config, create_app
from implementor.workers.names import GPU_QUEUE


@pytest.fixture
def stack_settings() -> Settings:
    return Settings(broker_url=SecretStr("redis://redis:6379/0"), task_time_limit_s=600,
                    task_soft_time_limit_s=540, visibility_timeout_s=7200, batch_max_size=4)


def test_json_only_and_model_work_goes_to_the_gpu_queue(stack_settings: Settings) -> None:
    app = create_app(stack_settings)
    assert app.conf.accept_content == ["json"] and app.conf.result_accept_content == ["json"]
    assert app.conf.task_serializer == app.conf.result_serializer == "json"
    for name in ("implementor.introduce", "implementor.project"):
        assert name in app.tasks
        assert app.amqp.router.route({}, name)["queue"].name == GPU_QUEUE


def test_reliability_settings(stack_settings: Settings) -> None:
    conf = celery_config(stack_settings)
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"]
    assert conf["task_time_limit"] == 600 and conf["task_soft_time_limit"] == 540
    assert conf["result_expires"] == stack_settings.result_ttl_s
    assert conf["worker_prefetch_multiplier"] == 4  # one batch, and no more
    # The visibility timeout is above the time limit, everywhere Celery and kombu read it.
    assert conf["visibility_timeout"] == 7200
    assert conf["broker_transport_options"]["visibility_timeout"] == 7200
    assert conf["result_backend_transport_options"]["visibility_timeout"] == 7200
    assert conf["broker_url"] == conf["result_backend"] == "redis://redis:6379/0"
    assert "polling_interval" not in conf["broker_transport_options"]  # the worker waits on Redis's socket


def test_no_broker_means_the_embedded_in_memory_transport() -> None:
    conf = celery_config(Settings())
    assert conf["broker_url"] == "memory://localhost/" and conf["result_backend"] == "cache+memory://"
    assert conf["worker_prefetch_multiplier"] == Settings().batch_max_size
    # kombu polls an in-memory queue once a second by default: half a second on every embedded job
    assert conf["broker_transport_options"]["polling_interval"] <= 0.05


def test_time_limits_must_nest(stack_settings: Settings) -> None:
    with pytest.raises(ValueError, match="VISIBILITY_TIMEOUT_S must exceed twice"):
        Settings(task_time_limit_s=600, task_soft_time_limit_s=500, visibility_timeout_s=1200)
    assert Settings(task_time_limit_s=600, task_soft_time_limit_s=500).visibility_timeout == 1260
    conf = celery_config(Settings(task_time_limit_s=20, task_soft_time_limit_s=15))
    assert conf["broker_transport_options"]["visibility_timeout"] == 100  # a dead worker's jobs: back in 110 s
    assert conf["broker_transport_options"]["unacked_restore_interval"] == 10
    with pytest.raises(ValueError, match="SOFT_TIME_LIMIT_S must be below"):
        Settings(task_time_limit_s=600, task_soft_time_limit_s=600)
    with pytest.raises(ValueError, match="redis://"):
        Settings(broker_url=SecretStr("amqp://guest@rabbit//"))


def test_the_broker_password_is_not_shown(stack_settings: Settings) -> None:
    settings = Settings(broker_url=SecretStr("redis://:hunter2@redis:6379/0"))
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


def test_learning_goes_to_its_own_queue_on_beats_schedule(stack_settings: Settings) -> None:
    from implementor.workers.names import HARVEST_TASK, LEARN_QUEUE, LEARN_TASK

    app = create_app(stack_settings.model_copy(update={"learn_interval_h": 6.0}))
    for name in (HARVEST_TASK, LEARN_TASK):
        assert app.amqp.router.route({}, name)["queue"].name == LEARN_QUEUE
        task = app.tasks[name]
        assert not task.acks_late and task.time_limit > stack_settings.task_time_limit_s  # a cycle outlasts a job
    [entry] = app.conf.beat_schedule.values()
    assert entry["task"] == LEARN_TASK and entry["schedule"] == 6 * 3600 and entry["options"]["queue"] == LEARN_QUEUE


def test_task_events_are_on_for_flower_and_celery_events(stack_settings: Settings) -> None:
    conf = celery_config(stack_settings)
    assert conf["worker_send_task_events"] is True and conf["task_send_sent_event"] is True
