"""The realism threshold means a known false-rejection rate on real texts, per task."""

from __future__ import annotations

import math
import random

import pytest
import torch

from implementor.models.rerank.reranker import calibration_shift
from implementor.training.rerank.calibration import calibrate, logit


def test_the_chosen_share_of_real_texts_falls_below_the_threshold() -> None:
    rng = random.Random(0)
    real = [rng.gauss(0.3, 1.0) for _ in range(1000)]  # a discriminator unsure about people
    drafts = [rng.gauss(-0.5, 1.0) for _ in range(1000)]
    found = calibrate(real, drafts, threshold=0.9, false_rejection=0.1)
    assert found["real_pass_rate"] == pytest.approx(0.9, abs=0.002)
    assert found["draft_pass_rate"] < found["real_pass_rate"]  # drafts still fail more often
    passing = sum(torch.sigmoid(torch.tensor(v + found["shift"])) >= 0.9 for v in real) / len(real)
    assert float(passing) == pytest.approx(0.9, abs=0.002)  # what the reranker will compute live
    assert math.isclose(logit(0.9), -logit(0.1))


def test_the_reranker_reads_the_shift_of_its_task_and_nothing_else() -> None:
    card = {"calibration": {"cv": {"shift": 1.5}, "reply": {"shift": -0.25}}}
    assert calibration_shift(card, "cv") == 1.5 and calibration_shift(card, "reply") == -0.25
    assert calibration_shift(card, None) == 0.0 and calibration_shift({}, "cv") == 0.0


def test_nonsense_is_refused() -> None:
    with pytest.raises(ValueError):
        calibrate([], [0.0])
    with pytest.raises(ValueError):
        calibrate([0.0], [0.0], false_rejection=1.5)
