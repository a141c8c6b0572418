"""Reranking: BERT heads that judge the writer's drafts, and the policy that picks one to post.

Serving:   head.py (a scoring head on a BERT encoder), policy.py (the choice, a pure function),
           reranker.py (both heads on one encoder pass, sampling checks)
Training:  examples.py ((prompt, text, target) rows), realism_data.py (real texts against drafts),
           quality_data.py (ratings, and matched/mismatched pairs), train.py (fit a head; the realism
           and quality runs), eval.py (AUCs and the lift of reranking)

May import: `contracts`, `config`, `models.common`, `models.corpus`, `models.writer` (drafts to judge).
Serving modules never import training ones.
"""
