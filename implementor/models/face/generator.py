"""Faces from a trained DCGAN generator: reproducible from a seed, delivered as PNG bytes.

A colleague's face is stored as nothing more than its seed: `FaceGenerator.faces([seed])` draws the
latent vector from that seed alone, so the same seed gives the same face whatever else is in the
batch, on any machine.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from implementor.contracts.errors import CheckpointError, InputError
from implementor.models import BUNDLED
from implementor.models.common.checkpoint import WEIGHTS_FILE, check_state_dict, load_checkpoint
from implementor.models.common.devices import resolve_device
from implementor.models.face.dcgan import DCGANConfig, Generator

log = logging.getLogger(__name__)

BUNDLED_FACE_MODEL = BUNDLED / "face-lfw"
MAX_BATCH = 4096  # one request never needs more; this keeps a typo from exhausting memory
SEED_RANGE = (0, 2**63 - 1)


def latents(seeds: list[int], nz: int) -> torch.Tensor:
    """One latent vector per seed, each drawn from its own CPU generator: (B, nz)."""
    for seed in seeds:
        if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
            raise InputError(f"seed {seed} is outside 0..2**63-1")
    return torch.cat([torch.randn(1, nz, generator=torch.Generator().manual_seed(s)) for s in seeds])


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, C, S, S) in [-1, 1] -> (B, S, S, C) uint8."""
    scaled = ((images.detach().cpu().float().clamp(-1, 1) + 1.0) * 127.5).round()
    return scaled.to(torch.uint8).permute(0, 2, 3, 1).numpy()


def png_bytes(image: np.ndarray, size: int | None = None) -> bytes:
    """One (S, S, C) uint8 image as PNG, upscaled to `size` px with a bicubic (smooth) filter."""
    pil = Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image)
    if size is not None and size != pil.width:
        pil = pil.resize((size, size), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def grid_png(images: torch.Tensor, columns: int = 8, scale: int = 2) -> bytes:
    """A grid of (B, C, S, S) images in [-1, 1] as one PNG, each tile scaled up `scale` times."""
    tiles = to_uint8(images)
    b, s, _, c = tiles.shape
    rows = -(-b // columns)
    gap = 2
    canvas = np.full((rows * (s + gap) + gap, columns * (s + gap) + gap, c), 255, dtype=np.uint8)
    for i, tile in enumerate(tiles):
        r, col = divmod(i, columns)
        y, x = gap + r * (s + gap), gap + col * (s + gap)
        canvas[y : y + s, x : x + s] = tile
    pil = Image.fromarray(canvas[:, :, 0] if c == 1 else canvas)
    pil = pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()


class FaceGenerator:
    """A loaded generator in eval mode on one device; cheap to call, expensive to build."""

    def __init__(self, generator: Generator, device: torch.device, card: dict | None = None) -> None:
        self.generator = generator.to(device).eval()
        self.config: DCGANConfig = generator.config
        self.device = device
        self.card = card or {}

    @classmethod
    def load(cls, path: Path | str | None = None, device: str = "auto") -> FaceGenerator:
        """Load a face checkpoint directory; None means the bundled LFW model."""
        if path is None:
            if not BUNDLED_FACE_MODEL.exists():
                raise CheckpointError(
                    f"the bundled face model is missing from {BUNDLED_FACE_MODEL}; reinstall the package "
                    "or set IMPLEMENTOR_FACE_MODEL to a checkpoint made by `implementor train face`"
                )
            path = BUNDLED_FACE_MODEL
        path = Path(path)
        ckpt = load_checkpoint(path)
        config = DCGANConfig.from_dict(ckpt.config)
        generator = Generator(config)
        check_state_dict(generator, ckpt.tensors, f"{path / WEIGHTS_FILE}")
        generator.load_state_dict(ckpt.tensors)
        log.info("loaded face model %s (%dpx, %d channel%s)", path, config.image_size, config.channels,
                 "" if config.channels == 1 else "s")
        return cls(generator, resolve_device(device), ckpt.card)

    @torch.inference_mode()
    def faces(self, seeds: list[int]) -> torch.Tensor:
        """One face per seed, batched: (B, C, S, S) in [-1, 1] on the CPU."""
        if not seeds:
            raise InputError("faces() needs at least one seed")
        if len(seeds) > MAX_BATCH:
            raise InputError(f"at most {MAX_BATCH} faces per call, got {len(seeds)}")
        z = latents(seeds, self.config.nz).to(self.device)
        return self.generator(z).float().cpu()

    def sample(self, n: int, seed: int) -> torch.Tensor:
        """The faces of seeds seed, seed+1, ..., seed+n-1: (n, C, S, S) in [-1, 1].

        So `sample(1, s)` is the face stored as seed s, and the same (n, seed) always gives the
        same images.
        """
        if not 1 <= n <= MAX_BATCH:
            raise InputError(f"n must be between 1 and {MAX_BATCH}, got {n}")
        return self.faces(list(range(seed, seed + n)))

    def png(self, seed: int, size: int = 256) -> bytes:
        """The face for `seed` as PNG bytes, `size` px square."""
        if size < 1:
            raise InputError(f"PNG size must be positive, got {size}")
        return png_bytes(to_uint8(self.faces([seed]))[0], size)

