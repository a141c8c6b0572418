from __future__ import annotations

import pytest
import torch

from implementor.training.face.data import FaceData
from implementor.training.face.eval import FaceEval, evaluate_images, mean_pairwise_distance, nearest_distances


@pytest.fixture(scope="module")
def heldout_as_samples(lfw32: FaceData) -> FaceEval:
    """The held-out real faces scored as if a generator had drawn them: the best case."""
    return evaluate_images(lfw32.heldout, lfw32)


def test_real_faces_score_far_above_noise(heldout_as_samples: FaceEval, lfw32: FaceData) -> None:
    result = heldout_as_samples
    assert result.face_rate["real"] >= 0.9
    assert result.face_rate["noise"] <= 0.05
    assert result.face_rate["generated"] >= 0.8  # held-out real faces, standing in for samples
    noise = torch.rand(50, 1, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    assert evaluate_images(noise, lfw32).face_rate["generated"] <= 0.05


def test_held_out_faces_are_not_flagged_as_copies(heldout_as_samples: FaceEval) -> None:
    result = heldout_as_samples
    assert result.memorisation["ratio"] == 1.0  # they *are* the reference
    assert result.diversity["ratio"] > 0.8


def test_a_copier_fails_memorisation(lfw32: FaceData) -> None:
    copies = lfw32.train[:50] + 0.01 * torch.randn(50, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    result = evaluate_images(copies.clamp(-1, 1), lfw32)
    assert result.memorisation["ratio"] < 0.2
    assert result.passes()["memorisation_ratio"] is False


def test_a_collapsed_generator_fails_diversity(lfw32: FaceData) -> None:
    same = lfw32.heldout[:1].repeat(40, 1, 1, 1)
    result = evaluate_images(same, lfw32)
    assert result.diversity["generated"] == 0.0
    assert result.passes()["diversity_ratio"] is False
    assert result.to_dict()["passed"] is False


def test_distances_are_rms_in_unit_pixels() -> None:
    black, white = -torch.ones(1, 1, 4, 4), torch.ones(1, 1, 4, 4)
    assert nearest_distances(black, white).item() == 1.0
    assert mean_pairwise_distance(torch.cat([black, white])) == 1.0
