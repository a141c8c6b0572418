"""A promoted head reaches a running worker within one poll interval, without a restart: a real worker
process on a real redis-server, following a versions directory (IMPLEMENTOR_MODELS_DIR)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from local_stack import RedisServer, children, worker_process

from implementor.contracts.jobs import IntroduceJob, IntroduceResult
from implementor.store import versions
from implementor.workers.client import JobClient

POLL_S = 1.0

pytestmark = pytest.mark.slow  # a real stack: redis-server and a worker process

if shutil.which("redis-server") is None and not os.environ.get("CI"):
    pytest.skip("redis-server is not installed (CI installs it; locally: apt-get install redis-server)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, tiny_env: dict[str, str]):  # type: ignore[no-untyped-def]
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    models_dir = tmp_path_factory.mktemp("models")
    env = {**tiny_env, "IMPLEMENTOR_BATCH_WINDOW_S": "0.1", "IMPLEMENTOR_MODELS_DIR": str(models_dir),
           "IMPLEMENTOR_MODEL_POLL_S": str(POLL_S)}
    try:
        with worker_process(server.url, env, tmp_path_factory.mktemp("log") / "worker.log") as (client, worker):
            yield client, worker, models_dir
    finally:
        server.stop()


def shifted_head(source: Path, out: Path, shift: float, tiny_bert_dir: str) -> Path:
    """The tiny quality head with its output moved by `shift` logits: every rating it gives goes up."""
    from implementor.models.common.encoder import SentenceEncoder
    from implementor.models.rerank.head import PairScorer

    scorer = PairScorer.load(source, SentenceEncoder.load(tiny_bert_dir, "cpu"), "quality", "cpu")
    scorer.head.net[-1].bias.data += shift
    scorer.save(out, scorer.card)
    return out


def ratings(client: JobClient, job_id: str) -> list[tuple[str, float]]:
    result = client.result(client.submit(IntroduceJob(job_id=job_id, name="Ada Lovelace", title="Data Scientist",
                                                      seed=3)), timeout=180)
    assert isinstance(result, IntroduceResult) and result.status == "ok", result
    return [(c.text, c.quality) for c in result.candidates]


def test_a_running_worker_serves_a_promoted_head_within_one_poll_interval(stack, tiny_env: dict[str, str],  # type: ignore[no-untyped-def]
                                                                           tmp_path: Path) -> None:
    client, worker, models_dir = stack
    before = ratings(client, "promote-before")
    processes = children(worker.pid)

    head = shifted_head(Path(tiny_env["IMPLEMENTOR_QUALITY_MODEL"]), tmp_path / "head", 3.0,
                        tiny_env["IMPLEMENTOR_ENCODER"])
    name = versions.add(models_dir, "quality", head)
    versions.promote(models_dir, "quality", name, "a test")
    time.sleep(POLL_S + 0.2)
    after = ratings(client, "promote-after")

    assert [text for text, _ in after] == [text for text, _ in before]  # the same drafts (seeded) ...
    assert all(new > old for (_, new), (_, old) in zip(after, before, strict=True))  # ... rated by the new head
    assert children(worker.pid) == processes  # by the same processes: nothing restarted
