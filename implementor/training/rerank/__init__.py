"""Training the rerank heads: examples.py ((prompt, text, target) rows), realism_data.py (real texts
against drafts), quality_data.py (ratings, and matched/mismatched pairs), train.py (fit a head; the
realism and quality runs), calibration.py (a threshold with a known false rejection), eval.py (AUCs
and the lift of reranking). The served heads and policy are `implementor.models.rerank`.
"""
