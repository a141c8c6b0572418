from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from implementor.contracts.errors import DataError
from implementor.training.face.data import FaceData, augment, lfw_faces, load_face_data


def test_lfw_is_the_100_real_faces_split_80_20(lfw32: FaceData) -> None:
    assert lfw_faces().shape == (100, 25, 25)
    assert lfw32.train.shape == (80, 1, 32, 32)
    assert lfw32.heldout.shape == (20, 1, 32, 32)
    assert lfw32.train.min() >= -1 and lfw32.train.max() <= 1
    # No held-out face is also a training face.
    assert torch.cdist(lfw32.heldout.flatten(1), lfw32.train.flatten(1)).min() > 0.5


def test_the_split_is_the_same_every_time(lfw32: FaceData) -> None:
    again = load_face_data("lfw", 32, 1)
    assert torch.equal(again.heldout, lfw32.heldout)


def test_rgb_and_64px_variants() -> None:
    data = load_face_data("lfw", 64, 3)
    assert data.train.shape[1:] == (3, 64, 64)
    assert torch.equal(data.train[:, 0], data.train[:, 2])  # gray faces, repeated into 3 channels


def test_a_folder_skips_unreadable_files_and_loads_the_rest(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for i, face in enumerate(lfw_faces()[:6]):
        cv2.imwrite(str(tmp_path / f"face{i}.png"), (face * 255).astype(np.uint8))
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg at all")
    (tmp_path / "notes.txt").write_text("ignored: not an image suffix")
    data = load_face_data(tmp_path, 32, 3)
    assert len(data.train) + len(data.heldout) == 6
    assert "broken.jpg" in caplog.text


def test_folder_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_face_data(tmp_path / "missing", 32, 1)
    with pytest.raises(DataError, match="holds no images"):
        load_face_data(tmp_path, 32, 1)
    cv2.imwrite(str(tmp_path / "one.png"), np.zeros((8, 8), np.uint8))
    with pytest.raises(DataError, match="at least 5"):
        load_face_data(tmp_path, 32, 1)


def test_augment_flips_and_shifts_but_keeps_shape() -> None:
    batch = torch.linspace(-1, 1, 32).repeat(64, 1, 32, 1)  # a left-to-right ramp
    out = augment(batch, torch.Generator().manual_seed(0), max_shift=2)
    assert out.shape == batch.shape
    flipped = out[:, 0, 16, 16] < 0  # the centre pixel changes sign when the ramp is flipped
    assert 10 < flipped.sum() < 54
    assert not torch.equal(out, batch)
    assert torch.equal(augment(batch, torch.Generator().manual_seed(0), 2), out)  # seeded
