from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from implementor.contracts.errors import InputError
from implementor.models.face.generator import BUNDLED_FACE_MODEL, FaceGenerator, latents


@pytest.fixture(scope="module")
def bundled() -> FaceGenerator:
    return FaceGenerator.load(None, "cpu")


def test_same_seed_gives_an_identical_png_twice(bundled: FaceGenerator) -> None:
    first, second = bundled.png(7), bundled.png(7)
    assert first == second
    assert first[:8] == b"\x89PNG\r\n\x1a\n"


def test_different_seeds_give_different_faces(bundled: FaceGenerator) -> None:
    faces = bundled.faces(list(range(8)))
    distances = torch.cdist(faces.flatten(1), faces.flatten(1))
    assert (distances + torch.eye(8) * 1e9).min() > 1.0


def test_png_is_upscaled_smoothly_to_the_requested_size(bundled: FaceGenerator) -> None:
    image = Image.open(io.BytesIO(bundled.png(7, size=256)))
    assert image.size == (256, 256)
    pixels = np.asarray(image, dtype=np.int16)
    # A smooth (bicubic) filter leaves no 8x8 blocks of identical pixels, which nearest-neighbour would.
    assert (np.abs(np.diff(pixels[:, :8], axis=1)) > 0).any()
    assert len(np.unique(pixels)) > 64


def test_a_face_does_not_depend_on_its_batch(bundled: FaceGenerator) -> None:
    alone = bundled.faces([7])
    in_batch = bundled.faces([3, 7, 11])[1:2]
    assert torch.allclose(alone, in_batch, atol=1e-5)
    # sample(n, seed) is the faces of seeds seed..seed+n-1.
    assert torch.allclose(bundled.sample(3, 5)[2:3], alone, atol=1e-5)


def test_latents_come_from_the_seed_alone() -> None:
    assert torch.equal(latents([1, 2], 16)[1], latents([2], 16)[0])
    with pytest.raises(InputError, match="seed"):
        latents([-1], 16)


def test_sampling_arguments_are_checked(bundled: FaceGenerator) -> None:
    with pytest.raises(InputError):
        bundled.sample(0, 1)
    with pytest.raises(InputError):
        bundled.faces([])


def test_the_bundled_model_ships_small_with_its_card() -> None:
    size = sum(p.stat().st_size for p in BUNDLED_FACE_MODEL.rglob("*") if p.is_file())
    assert size <= 15 * 1024 * 1024
    card = FaceGenerator.load(None, "cpu").card
    assert card["data"]["source"] == "lfw"
    assert {"command", "steps", "wall_time_s", "sha256", "metrics"} <= card.keys()
    assert card["metrics"]["eval"]["passed"] is True


def test_loading_uses_the_checkpoint_config(tiny_checkpoint: Path) -> None:
    model = FaceGenerator.load(tiny_checkpoint, "cpu")
    assert model.config.nz == 16
    assert model.sample(2, 0).shape == (2, 1, 32, 32)
