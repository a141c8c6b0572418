"""Turning an operator's photo folder into square face crops that `train face` can learn from.

For each photo: find the largest frontal face with OpenCV's Haar cascade, widen the box by a margin
so hair and chin stay in, crop it square (replicating the edge where the box leaves the photo) and
resize it. Photos with no face and files that are not images are counted and named, never fatal:
one bad file should not cost an operator the other thousand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from implementor.contracts.errors import DataError
from implementor.training.face.data import image_files
from implementor.training.face.detect import detect_faces

log = logging.getLogger(__name__)


@dataclass
class PrepareReport:
    photos: int = 0
    written: list[Path] = field(default_factory=list)
    no_face: list[Path] = field(default_factory=list)
    unreadable: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.photos} photos: {len(self.written)} face crops written, "
            f"{len(self.no_face)} with no face found, {len(self.unreadable)} unreadable (skipped)"
        )


def square_box(box: tuple[int, int, int, int], margin: float) -> tuple[int, int, int]:
    """(x, y, w, h) -> (left, top, side) of a square around the box, `margin` of its size each way."""
    x, y, w, h = box
    side = int(round(max(w, h) * (1.0 + 2.0 * margin)))
    cx, cy = x + w / 2.0, y + h / 2.0
    return int(round(cx - side / 2.0)), int(round(cy - side / 2.0)), side


def crop_square(image: np.ndarray, left: int, top: int, side: int) -> np.ndarray:
    """Crop a square that may extend past the image, replicating edge pixels to fill it."""
    h, w = image.shape[:2]
    pad = max(0, -left, -top, left + side - w, top + side - h)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        left, top = left + pad, top + pad
    return image[top : top + side, left : left + side]


def crop_largest_face(image: np.ndarray, size: int, margin: float) -> np.ndarray | None:
    """The largest face in a BGR or grayscale uint8 photo, as a size x size crop; None if there is none."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    # Ignore detections smaller than a tenth of the photo: in staff photos those are noise.
    faces = detect_faces(gray, min_size=max(24, min(gray.shape) // 10))
    if not faces:
        return None
    crop = crop_square(image, *square_box(faces[0], margin))
    interp = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_CUBIC
    return cv2.resize(crop, (size, size), interpolation=interp)


def _output_name(photo: Path, root: Path) -> str:
    # Keep sub-folder names so that a/1.jpg and b/1.jpg do not overwrite each other.
    return "__".join(photo.relative_to(root).with_suffix("").parts) + ".png"


def prepare_photos(
    photos_dir: Path, out_dir: Path, size: int = 64, margin: float = 0.2, progress: bool = True
) -> PrepareReport:
    """Write one face crop per photo that has a face into `out_dir`; return what happened."""
    photos_dir, out_dir = photos_dir.expanduser().resolve(), out_dir.expanduser().resolve()
    if not photos_dir.exists():
        raise DataError(f"photo folder {photos_dir} does not exist")
    if out_dir == photos_dir or photos_dir in out_dir.parents:
        raise DataError(f"write the crops outside the photo folder ({out_dir} is inside {photos_dir})")
    if not 16 <= size <= 1024:
        raise DataError(f"crop size must be between 16 and 1024 px, got {size}")
    if not 0.0 <= margin <= 1.0:
        raise DataError(f"margin must be between 0 and 1 (a share of the face box), got {margin}")
    files = image_files(photos_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = PrepareReport(photos=len(files))
    for photo in tqdm(files, desc="faces prepare", unit="photo", disable=not progress):
        image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
        if image is None:
            log.warning("skipping %s: not a readable image", photo)
            report.unreadable.append(photo)
            continue
        crop = crop_largest_face(image, size, margin)
        if crop is None:
            log.info("no face found in %s", photo)
            report.no_face.append(photo)
            continue
        target = out_dir / _output_name(photo, photos_dir)
        if not cv2.imwrite(str(target), crop):
            raise DataError(f"could not write {target}")
        report.written.append(target)
    log.info("%s", report.summary())
    return report
