from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from implementor.contracts.errors import DataError
from implementor.training.face.data import lfw_faces
from implementor.training.face.detect import detect_faces
from implementor.training.face.prepare import crop_square, prepare_photos, square_box

# Where the synthetic photo's face goes: a real LFW face, upscaled, pasted into a larger canvas.
FACE_AT, FACE_SIDE = (190, 60), 120


def synthetic_photo() -> np.ndarray:
    rng = np.random.default_rng(0)
    canvas = rng.normal(150, 12, size=(320, 420, 3)).clip(0, 255).astype(np.uint8)  # a textured wall
    face = cv2.resize((lfw_faces()[3] * 255).astype(np.uint8), (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_CUBIC)
    x, y = FACE_AT
    canvas[y : y + FACE_SIDE, x : x + FACE_SIDE] = face[:, :, None]
    return canvas


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    (folder / "team").mkdir(parents=True)
    cv2.imwrite(str(folder / "team" / "ada.jpg"), synthetic_photo())
    cv2.imwrite(str(folder / "wall.png"), np.full((200, 300, 3), 128, np.uint8))
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    return folder


def test_the_pasted_face_is_found_where_it_was_put() -> None:
    boxes = detect_faces(cv2.cvtColor(synthetic_photo(), cv2.COLOR_BGR2GRAY))
    assert boxes
    x, y, w, h = boxes[0]
    cx, cy = x + w / 2, y + h / 2
    assert abs(cx - (FACE_AT[0] + FACE_SIDE / 2)) < FACE_SIDE * 0.2
    assert abs(cy - (FACE_AT[1] + FACE_SIDE / 2)) < FACE_SIDE * 0.2


def test_prepare_crops_the_face_and_reports_the_rest(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "crops"
    report = prepare_photos(photos, out, size=64, progress=False)
    assert report.photos == 3
    assert [p.name for p in report.written] == ["team__ada.png"]
    assert [p.name for p in report.no_face] == ["wall.png"]
    assert [p.name for p in report.unreadable] == ["corrupt.jpg"]
    crop = cv2.imread(str(out / "team__ada.png"), cv2.IMREAD_GRAYSCALE)
    assert crop.shape == (64, 64)
    # The crop is the face: it matches the pasted face far better than the wall around it.
    face = cv2.resize((lfw_faces()[3] * 255).astype(np.uint8), (64, 64))
    inner = cv2.resize(crop[8:56, 8:56], (64, 64))
    assert np.corrcoef(inner.flatten(), face.flatten())[0, 1] > 0.5


def test_prepare_errors_on_a_missing_or_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        prepare_photos(tmp_path / "missing", tmp_path / "out", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no images"):
        prepare_photos(tmp_path / "empty", tmp_path / "out", progress=False)


def test_prepare_never_writes_into_the_photo_folder(photos: Path) -> None:
    with pytest.raises(DataError, match="outside the photo folder"):
        prepare_photos(photos, photos / "crops", progress=False)


def test_crops_near_the_edge_stay_square() -> None:
    image = np.arange(100, dtype=np.uint8).reshape(10, 10)
    left, top, side = square_box((0, 0, 6, 4), margin=0.25)
    crop = crop_square(image, left, top, side)
    assert crop.shape == (side, side) == (9, 9)
    assert crop[0, 0] == image[0, 0]  # edge pixels are replicated outwards
