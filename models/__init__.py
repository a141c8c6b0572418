"""Pure PyTorch and transformers: the colleague's models, one room per concern.

    models/common/    checkpoints, devices, the sentence encoder, rank metrics (every room may use it)
    models/corpus/    the writer's corpus: reading splits (light), building them from ESCO (heavy)
    models/face/      the DCGAN: model, serving, data, photo preparation, training, evaluation
    models/writer/    the GPT-2 writer: model, prompts, sampling, drafts, training, evaluation
    models/rerank/    the BERT heads: head, examples, policy, reranker, training data, training, evaluation
    models/pipeline.py  the three models a worker holds, doing a batch of jobs (introduce, answer)
    models/bundled/   the shipped checkpoints and corpus (data, not code)

Imports point down: common <- corpus <- writer <- rerank <- pipeline, and face <- pipeline; every
room may use `contracts` and `config`. A serving module never imports a training module (train,
eval, data building); `tests/test_architecture.py` checks both. Nothing here knows about Celery or
Discord: workers call into this package and the bot never does.
"""

from __future__ import annotations

from pathlib import Path

BUNDLED = Path(__file__).parent / "bundled"
