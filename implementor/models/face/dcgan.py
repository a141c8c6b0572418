"""DCGAN: the generator that draws a colleague's face, and the discriminator it learns against.

Follows Radford, Metz & Chintala, "Unsupervised Representation Learning with Deep Convolutional
Generative Adversarial Networks" (2015), section 3:
- the generator is a stack of strided transposed convolutions with batch norm and ReLU, and a tanh
  output, so images live in [-1, 1];
- the discriminator is a stack of strided convolutions with LeakyReLU(0.2) and batch norm on every
  layer but the first; it returns one logit per image;
- no pooling and no fully connected hidden layers;
- weights start from N(0, 0.02), batch-norm scales from N(1, 0.02).

Both networks are built from the same config, so a checkpoint's `config.json` is all that is needed
to rebuild them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from implementor.contracts.errors import CheckpointError


@dataclass(frozen=True)
class DCGANConfig:
    # 32 keeps the bundled model small and fast on a CPU; 64 is the paper's size for operators'
    # photo sets. Every doubling adds one up-/down-sampling block to each network.
    image_size: int = 32
    # 1 for the grayscale LFW crops that ship with scikit-image; 3 for operators' colour photos.
    channels: int = 1
    # Latent size: the paper's 100 is plenty for faces; the seed of a face is a seed for this vector.
    nz: int = 100
    # Feature-map widths of the last generator block and the first discriminator block; each block
    # towards the 4x4 end doubles them. 64 is the paper's width; 100 training images need less.
    ngf: int = 64
    ndf: int = 64

    def __post_init__(self) -> None:
        if self.image_size not in (32, 64):
            raise ValueError(f"image_size must be 32 or 64, got {self.image_size}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {self.channels}")
        for name in ("nz", "ngf", "ndf"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    @property
    def n_blocks(self) -> int:
        """Stride-2 blocks between 4x4 and the image size: 3 for 32 px, 4 for 64 px."""
        return int(math.log2(self.image_size)) - 2

    def to_dict(self) -> dict[str, Any]:
        return {"architecture": "dcgan", **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DCGANConfig:
        """Build a config from `config.json`, refusing unknown architectures and keys."""
        data = dict(data)
        arch = data.pop("architecture", "dcgan")
        if arch != "dcgan":
            raise CheckpointError(f"config.json describes a {arch!r} model, not a DCGAN")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CheckpointError(f"config.json has keys a DCGAN does not know: {unknown}")
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"config.json is not a valid DCGAN config: {exc}") from None


def _up_block(c_in: int, c_out: int) -> nn.Sequential:
    # Doubles height and width. No bias: the batch norm that follows has its own shift.
    return nn.Sequential(
        nn.ConvTranspose2d(c_in, c_out, kernel_size=4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def _down_block(c_in: int, c_out: int, batch_norm: bool) -> nn.Sequential:
    # Halves height and width with a strided convolution instead of pooling (the paper's choice).
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, kernel_size=4, stride=2, padding=1, bias=not batch_norm)
    ]
    if batch_norm:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def init_weights(module: nn.Module) -> None:
    """The paper's initialisation: N(0, 0.02) for convolutions, N(1, 0.02) for batch-norm scales."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """z (B, nz) -> image (B, channels, image_size, image_size) in [-1, 1]."""

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        width = config.ngf * 2 ** (config.n_blocks - 1)
        # Project z onto a 4x4 map: a transposed convolution over a 1x1 input.
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(config.nz, width, kernel_size=4, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        ]
        for _ in range(config.n_blocks - 1):
            layers.append(_up_block(width, width // 2))
            width //= 2
        layers += [
            nn.ConvTranspose2d(width, config.channels, kernel_size=4, stride=2, padding=1),
            nn.Tanh(),
        ]
        self.net = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.config.nz:
            raise ValueError(f"z must have shape (B, {self.config.nz}), got {tuple(z.shape)}")
        return self.net(z[:, :, None, None])  # (B, nz, 1, 1) -> (B, C, S, S)


class Discriminator(nn.Module):
    """image (B, channels, image_size, image_size) -> logit (B,); positive means "real"."""

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        width = config.ndf
        layers: list[nn.Module] = [_down_block(config.channels, width, batch_norm=False)]
        for _ in range(config.n_blocks - 1):
            layers.append(_down_block(width, width * 2, batch_norm=True))
            width *= 2
        # A 4x4 map down to one logit; the sigmoid lives in the loss (BCE with logits).
        layers.append(nn.Conv2d(width, 1, kernel_size=4, stride=1, padding=0))
        self.net = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        c, s = self.config.channels, self.config.image_size
        if images.dim() != 4 or tuple(images.shape[1:]) != (c, s, s):
            raise ValueError(f"images must have shape (B, {c}, {s}, {s}), got {tuple(images.shape)}")
        return self.net(images).flatten()  # (B, 1, 1, 1) -> (B,)
