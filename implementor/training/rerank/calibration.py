"""Calibrating the realism head so that its threshold means something: a known share of real texts fails it.

A discriminator trained on real texts against a good writer's drafts cannot separate them cleanly,
so its raw P(real) for a real text is often near 0.5, and a fixed threshold of 0.9 would reject most
people. Per task (CVs, replies), `calibrate` finds the logit below which a chosen share of held-out
real texts falls (the false-rejection rate) and records the shift that puts that point at the live
threshold: after it, P(real) >= threshold means "scores at least as high as (1 - rate) of real
texts". The card keeps the shift, the rate, and the pass rates it measured for real texts and drafts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def calibrate(real_logits: Sequence[float], draft_logits: Sequence[float], threshold: float = 0.9,
              false_rejection: float = 0.1) -> dict[str, Any]:
    """The shift for one task, with the held-out pass rates it gives (see the module docstring)."""
    if not real_logits or not 0 < false_rejection < 1 or not 0 < threshold < 1:
        raise ValueError("calibration needs real texts' scores, a rate in (0, 1) and a threshold in (0, 1)")
    real = torch.tensor(list(real_logits), dtype=torch.float64)
    cut = float(torch.quantile(real, false_rejection))
    shift = logit(threshold) - cut
    drafts = torch.tensor(list(draft_logits), dtype=torch.float64)
    return {
        "shift": round(shift, 6), "threshold": threshold, "false_rejection": false_rejection,
        "real_pass_rate": round(float((real + shift >= logit(threshold)).double().mean()), 4),
        "draft_pass_rate": round(float((drafts + shift >= logit(threshold)).double().mean()), 4) if len(drafts)
        else None,
        "real_texts": len(real), "drafts": len(drafts),
    }
