"""Reranking: BERT heads that judge the writer's drafts, and the policy that picks one to post.

    head.py      a scoring head on a BERT encoder
    policy.py    the choice, a pure function
    reranker.py  both heads on one encoder pass, sampling checks

Training data, training, calibration and evaluation live in `implementor.training.rerank`.
May import: `contracts`, `config`, `implementor.models.common`, `implementor.models.writer`.
"""
