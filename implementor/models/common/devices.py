"""Choosing where a model runs: `auto` means the GPU when there is one."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from implementor.contracts.errors import ConfigError

log = logging.getLogger(__name__)


def resolve_device(name: str = "auto") -> torch.device:
    """`auto`, `cpu`, `cuda` or `cuda:N` -> a torch.device; asking for a missing GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} was asked for, but PyTorch sees no CUDA GPU; use 'auto' or 'cpu'")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(f"unknown device {name!r}: {exc}") from None


def bf16_autocast_pays(device: torch.device) -> bool:
    """Whether bf16 autocast speeds up training here: a GPU with bf16, or a CPU with AMX or AVX-512 bf16.

    Elsewhere a CPU emulates bf16, which is slower than float32."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags
