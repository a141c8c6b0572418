"""Rank statistics shared by the evaluations: ROC AUC and Spearman's rho, with ties handled."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def ranks(values: Sequence[float] | torch.Tensor) -> torch.Tensor:
    """1-based ranks, ties sharing their mean rank."""
    x = torch.as_tensor(values, dtype=torch.float64)
    order = torch.argsort(x, stable=True)
    ranked = torch.empty_like(x)
    ranked[order] = torch.arange(1, len(x) + 1, dtype=torch.float64)
    for value in torch.unique(x):
        tied = x == value
        if tied.sum() > 1:
            ranked[tied] = ranked[tied].mean()
    return ranked


def roc_auc(scores: Sequence[float] | torch.Tensor, labels: Sequence[int] | torch.Tensor) -> float:
    """P(score of a random positive > score of a random negative), ties counting half (Mann-Whitney U)."""
    y = torch.as_tensor(labels).bool()
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        raise ValueError("ROC AUC needs at least one positive and one negative")
    r = ranks(scores)
    return float((r[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def spearman(a: Sequence[float] | torch.Tensor, b: Sequence[float] | torch.Tensor) -> float:
    """Spearman's rank correlation (Pearson correlation of the ranks)."""
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = float((ra.square().sum() * rb.square().sum()).sqrt())
    return float((ra * rb).sum()) / denominator if denominator else 0.0
