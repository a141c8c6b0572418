"""What every benchmark records beside its figures: the machine it ran on, and where the JSON goes."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def machine(device: str | None = None) -> dict[str, Any]:
    """The context that absolute times need: CPU, cores, torch threads and, on CUDA, the GPU's name."""
    info: dict[str, Any] = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                            "python": platform.python_version()}
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
