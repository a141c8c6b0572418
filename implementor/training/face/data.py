"""Face training data: the built-in `lfw` set or an operator's folder of face crops.

Both come out the same way: float tensors (N, C, S, S) in [-1, 1] (the generator's tanh range),
split once, deterministically, into a training part and a held-out part. The held-out faces are
never trained on; `eval face` uses them to tell a generator that copies from one that generalises.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from implementor.contracts.errors import DataError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
# scikit-image's lfw_subset() holds 100 face crops followed by 100 non-face patches.
LFW_FACES = 100
HELDOUT_FRACTION = 0.2
SPLIT_SEED = 20151119  # the DCGAN paper's arXiv date; any fixed value keeps the split stable
MIN_IMAGES = 5


@dataclass(frozen=True)
class FaceData:
    """Training and held-out faces, (N, C, S, S) float32 in [-1, 1]."""

    train: torch.Tensor
    heldout: torch.Tensor
    source: str

    def describe(self) -> dict[str, object]:
        return {
            "source": self.source,
            "train_images": len(self.train),
            "heldout_images": len(self.heldout),
            "image_shape": list(self.train.shape[1:]),
        }


def lfw_faces() -> np.ndarray:
    """The 100 real LFW face crops that scikit-image ships: (100, 25, 25) float64 in [0, 1]."""
    from skimage.data import lfw_subset

    return lfw_subset()[:LFW_FACES]


def _read_image(path: Path, channels: int) -> np.ndarray | None:
    flag = cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR
    try:
        image = cv2.imread(str(path), flag)
    except cv2.error:
        image = None
    if image is None:
        return None
    if channels == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image


def image_files(folder: Path) -> list[Path]:
    """Image files under `folder`, recursively, in a stable order; DataError if there are none."""
    if not folder.exists():
        raise DataError(f"{folder} does not exist")
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def folder_faces(folder: Path, channels: int) -> list[np.ndarray]:
    """Every readable image under `folder` as uint8 (H, W[, 3]); unreadable files are skipped loudly."""
    images = []
    for path in image_files(folder):
        image = _read_image(path, channels)
        if image is None:
            log.warning("skipping %s: not a readable image", path)
            continue
        images.append(image)
    return images


def to_tensor(images: list[np.ndarray] | np.ndarray, size: int, channels: int) -> torch.Tensor:
    """Centre-crop each image square, resize to `size` and scale to [-1, 1]: (N, C, size, size)."""
    out = []
    for image in images:
        image = np.asarray(image, dtype=np.float32)
        if image.max() > 1.0:
            image = image / 255.0
        h, w = image.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        image = image[top : top + side, left : left + side]
        interp = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
        image = np.clip(cv2.resize(image, (size, size), interpolation=interp), 0.0, 1.0)
        if image.ndim == 2:
            image = image[:, :, None]
        if image.shape[2] != channels:
            image = np.repeat(image, channels, axis=2) if channels == 3 else image.mean(axis=2, keepdims=True)
        out.append(image.transpose(2, 0, 1))
    return torch.from_numpy(np.stack(out)) * 2.0 - 1.0


def split(images: torch.Tensor, source: str) -> FaceData:
    """Hold out a fixed fifth of the images, chosen by a fixed permutation."""
    n = len(images)
    if n < MIN_IMAGES:
        raise DataError(f"{source} has {n} usable face images; training needs at least {MIN_IMAGES}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(SPLIT_SEED))
    n_heldout = max(1, round(n * HELDOUT_FRACTION))
    return FaceData(train=images[order[n_heldout:]], heldout=images[order[:n_heldout]], source=source)


def load_face_data(spec: str | Path, size: int, channels: int) -> FaceData:
    """`lfw` for the built-in set, or a folder of face crops (see `implementor faces prepare`)."""
    if str(spec) == "lfw":
        return split(to_tensor(lfw_faces(), size, channels), "lfw")
    folder = Path(spec).expanduser()
    return split(to_tensor(folder_faces(folder, channels), size, channels), str(folder))


def augment(batch: torch.Tensor, generator: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Random horizontal flips and shifts of up to `max_shift` pixels (reflected at the edges).

    With 80 training faces, these multiply what the discriminator sees without changing what a
    face looks like; a flipped or slightly moved face is still a plausible face.
    """
    b, _, s, _ = batch.shape
    flip = torch.rand(b, generator=generator) < 0.5
    batch = torch.where(flip[:, None, None, None], batch.flip(3), batch)
    if max_shift == 0:
        return batch
    padded = F.pad(batch, (max_shift,) * 4, mode="reflect")
    dx = torch.randint(0, 2 * max_shift + 1, (b,), generator=generator)
    dy = torch.randint(0, 2 * max_shift + 1, (b,), generator=generator)
    return torch.stack([padded[i, :, dy[i] : dy[i] + s, dx[i] : dx[i] + s] for i in range(b)])
