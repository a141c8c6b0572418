"""Checkpoint directories: `config.json` + `model.safetensors` + `card.json`, and nothing unpickled.

Every model we train is saved the same way, so one loader can check it:
- `config.json` holds the architecture, so loading never guesses (nanoGPT's `model_args` habit);
- `model.safetensors` holds the tensors; safetensors cannot run code when read;
- `card.json` says how the checkpoint was made: the command, the data, steps, wall time, metrics
  and the sha256 of every tensor file, which the loader verifies.

A file that is a pickle (a `.pt`, `.bin` or `.ckpt`, or one renamed to `.safetensors`) is refused
with a message that says so; we never call `torch.load`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from implementor.contracts.errors import CheckpointError

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "card.json"
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle")
# What pickled files start with: protocol 2+ opcode, or the zip archive torch.save writes.
_PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")


@dataclass
class Checkpoint:
    """A checkpoint read from disk: its config, its tensors and its card."""

    path: Path
    config: dict[str, Any]
    tensors: dict[str, torch.Tensor]
    card: dict[str, Any] = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically, so a crash mid-write never leaves half a file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=False)
        fh.write("\n")
    os.replace(tmp, path)


def save_tensors(path: Path, tensors: Mapping[str, torch.Tensor], metadata: dict[str, str] | None = None) -> str:
    """Save tensors atomically as safetensors and return the file's sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # safetensors wants contiguous tensors that do not share memory.
    save_file({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}, str(tmp), metadata)
    os.replace(tmp, path)
    return sha256_file(path)


def environment() -> dict[str, str]:
    """Versions worth recording on a card: enough to reproduce the run."""
    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "platform": platform.platform(),
    }


def save_checkpoint(
    directory: Path,
    config: dict[str, Any],
    tensors: Mapping[str, torch.Tensor],
    card: dict[str, Any],
) -> dict[str, Any]:
    """Write config, weights and card; the card gains `sha256`, `created` and `environment`."""
    directory.mkdir(parents=True, exist_ok=True)
    write_json(directory / CONFIG_FILE, config)
    digest = save_tensors(directory / WEIGHTS_FILE, tensors)
    card = {
        **card,
        "sha256": {**card.get("sha256", {}), WEIGHTS_FILE: digest},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": environment(),
    }
    write_json(directory / CARD_FILE, card)
    return card


def read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path.parent} has no {path.name}; it is not a checkpoint directory") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({what}): {exc}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} must hold a JSON object ({what})")
    return data


def refuse_pickles(path: Path) -> None:
    """Raise if `path` is, or is a directory holding only, pickled weights."""
    if path.is_file():
        candidates = [path]
    elif path.is_dir():
        candidates = [p for p in path.iterdir() if p.suffix in PICKLE_SUFFIXES]
        if (path / WEIGHTS_FILE).exists():
            return
    else:
        return
    if candidates:
        names = ", ".join(p.name for p in candidates)
        raise CheckpointError(
            f"refusing pickled checkpoint ({names}) in {path}: unpickling can run arbitrary code. "
            f"Save it as a directory with {CONFIG_FILE} and {WEIGHTS_FILE} (safetensors) instead."
        )


def load_tensors(path: Path, expected_sha256: str | None = None) -> dict[str, torch.Tensor]:
    """Read a safetensors file after checking it is not a pickle and matches its recorded digest."""
    with path.open("rb") as fh:
        head = fh.read(9)
    # safetensors starts with its header's length (8 bytes, little-endian) and then the header's "{";
    # that length's first byte may be 0x80, pickle's magic, so only a file without the "{" is a suspect.
    if head[8:9] != b"{" and head.startswith(_PICKLE_MAGIC):
        raise CheckpointError(
            f"refusing {path}: it is a pickle (torch.save output), not safetensors; "
            "unpickling can run arbitrary code"
        )
    if expected_sha256 is not None and sha256_file(path) != expected_sha256:
        raise CheckpointError(
            f"{path} does not match the sha256 recorded in its card: the file is corrupt or was replaced"
        )
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file (corrupt?): {exc}") from None


def read_metadata(path: Path) -> dict[str, str]:
    """The string metadata stored in a safetensors header (call after `load_tensors` has vetted it)."""
    with safe_open(str(path), framework="pt") as fh:
        return dict(fh.metadata() or {})


def load_checkpoint(directory: Path | str) -> Checkpoint:
    """Read a checkpoint directory, verifying what can be verified before building any model."""
    path = Path(directory).expanduser()
    refuse_pickles(path)
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}: the directory does not exist")
    if not path.is_dir():
        raise CheckpointError(f"{path} is a file; a checkpoint is a directory with {CONFIG_FILE} and {WEIGHTS_FILE}")
    config = read_json(path / CONFIG_FILE, "model config")
    card: dict[str, Any] = {}
    if (path / CARD_FILE).exists():
        card = read_json(path / CARD_FILE, "model card")
    else:
        log.warning("%s has no %s; its provenance and checksum cannot be checked", path, CARD_FILE)
    weights = path / WEIGHTS_FILE
    if not weights.exists():
        raise CheckpointError(f"{path} has no {WEIGHTS_FILE}")
    tensors = load_tensors(weights, card.get("sha256", {}).get(WEIGHTS_FILE))
    return Checkpoint(path=path, config=config, tensors=tensors, card=card)


def check_state_dict(module: torch.nn.Module, tensors: Mapping[str, torch.Tensor], source: str) -> None:
    """Raise a CheckpointError naming the first differences between a module and saved tensors.

    `load_state_dict` would also fail, but with a message about Python attribute paths; this one
    says the config and the weights disagree, which is what an operator can act on.
    """
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in tensors.items()}
    problems = [f"missing {k}" for k in sorted(expected.keys() - found.keys())]
    problems += [f"unexpected {k}" for k in sorted(found.keys() - expected.keys())]
    problems += [
        f"{k}: config gives shape {expected[k]}, weights have {found[k]}"
        for k in sorted(expected.keys() & found.keys())
        if expected[k] != found[k]
    ]
    if problems:
        shown = "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
        raise CheckpointError(f"{source}: {CONFIG_FILE} does not match the weights ({shown})")


def optimizer_to_tensors(prefix: str, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[Any]]:
    """Flatten an optimizer's state into named tensors plus JSON-able param groups (no pickle)."""
    state_dict = optimizer.state_dict()
    tensors = {
        f"{prefix}.{index}.{name}": value if torch.is_tensor(value) else torch.tensor(value)
        for index, state in state_dict["state"].items()
        for name, value in state.items()
    }
    return tensors, state_dict["param_groups"]


def optimizer_from_tensors(
    optimizer: torch.optim.Optimizer, prefix: str, tensors: Mapping[str, torch.Tensor], param_groups: list[Any]
) -> None:
    """Inverse of `optimizer_to_tensors`."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith(prefix + "."):
            index, name = key[len(prefix) + 1 :].split(".", 1)
            state.setdefault(int(index), {})[name] = value
    try:
        optimizer.load_state_dict({"state": state, "param_groups": param_groups})
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"the saved {prefix} optimizer state does not fit this model: {exc}") from None
