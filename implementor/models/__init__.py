"""Serving: the colleague's models as a worker loads them, one room per concern (PyTorch and transformers).

    common/      checkpoints, devices, the sentence encoder (every room may use it)
    face/        the DCGAN generator: the model and drawing faces
    writer/      the writer: model, prompts, trade book, sampling, engines, drafts, the serving cache
    rerank/      the BERT heads, the policy that picks a draft, the reranker
    pipeline.py  the three models a worker holds, doing a batch of jobs (introduce, answer)
    bundled/     the shipped checkpoints and corpus (data, not code)

Imports point down: common <- writer <- rerank <- pipeline, and face <- pipeline; every room may use
`contracts` and `config`. Nothing here imports `implementor.training`, nor knows about Celery or
Discord: workers call into this package and the bot never does (`tests/test_architecture.py`).
"""

from __future__ import annotations

from pathlib import Path

BUNDLED = Path(__file__).parent / "bundled"
