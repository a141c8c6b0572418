"""What every benchmark records beside its figures: the machine it ran on, and where the JSON goes."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")  # what the engines use


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, Any]:
    """The CPU's model name and which of the vector extensions the engines use it has (Linux; else empty)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8")
    except OSError:
        return {}
    pairs = (line.split(":", 1) for line in text.splitlines()[:40] if ":" in line)  # the first processor's block
    fields = {key.strip(): value.strip() for key, value in pairs}
    flags = set(fields.get("flags", "").split())
    return {"cpu_model": fields.get("model name", ""), "cpu_flags": [f for f in CPU_FLAGS if f in flags]}


def machine(device: str | None = None) -> dict[str, Any]:
    """The context that absolute times need: CPU (model and vector extensions), cores, torch threads and,
    on CUDA, the GPU's name."""
    info: dict[str, Any] = {"cpu": platform.processor() or platform.machine(), **cpu_model(),
                            "cores": os.cpu_count(), "python": platform.python_version()}
    if device is not None:
        import torch

        info.update(device=device, torch=torch.__version__, torch_threads=torch.get_num_threads(),
                    gpu=torch.cuda.get_device_name() if device.startswith("cuda") else None)
    return info


def write_result(result: dict[str, Any], out: Path | None) -> dict[str, Any]:
    """Write the result as JSON to `out` (unless None) and hand it back."""
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    return result
