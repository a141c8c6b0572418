"""What every benchmark records beside its figures: the machine it ran on, and where the JSON goes."""

from __future__ import annotations

import json
import os
import platform
import re
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


RESULTS = Path("bench/results")


def machine_name(info: dict[str, Any]) -> str:
    """The machine in plain words, as the docs name it: "2-core Intel Xeon with AVX-512 and AMX"."""
    model = re.sub(r"\((R|TM)\)|\b(CPU|Processor)\b|@.*$|\d+-Core", "", info.get("cpu_model") or "")
    model = " ".join(model.split()) or info.get("cpu") or "unknown CPU"
    flags = set(info.get("cpu_flags", []))
    if {"avx512f", "amx_bf16"} <= flags:
        vector = "AVX-512 and AMX"
    elif "avx512f" in flags:
        vector = "AVX-512, no AMX"
    else:
        vector = "AVX2, no AVX-512" if "avx2" in flags else "no AVX2"
    gpu = f" and an {info['gpu']}" if info.get("gpu") else ""
    return f"{info.get('cores', '?')}-core {model} with {vector}{gpu}"


def machine_slug(info: dict[str, Any]) -> str:
    """The machine's folder under bench/results: its plain name, lower case, in one word."""
    return re.sub(r"[^a-z0-9]+", "-", machine_name(info).lower().replace("avx-512", "avx512")).strip("-")


def result_path(name: str, device: str | None = None) -> Path:
    """Where a benchmark's JSON goes by default: a folder per machine, so rows from machines never mix."""
    return RESULTS / machine_slug(machine(device)) / f"{name}.json"


def write_result(result: dict[str, Any], out: Path | None) -> dict[str, Any]:
    """Write the result as JSON to `out` (unless None) and hand it back."""
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    return result
