"""Model versions side by side, a pointer to the live one, and every promotion and rollback on record.

    <models_dir>/<kind>/v0001/ ...       each version a checkpoint directory, with its card (and metrics)
    <models_dir>/<kind>/CURRENT          the live version's name (written atomically)
    <models_dir>/<kind>/history.jsonl    promotions and rollbacks: which version, when, why

`kind` is "quality" or "realism". Which head is live, the live version or else the configured or
bundled one, is `live.py`'s to say (workers ask it between batches, `implementor/workers/model_set.py`);
`implementor models list|promote|rollback` shows and undoes.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from implementor.contracts.errors import InputError

KINDS = ("quality", "realism")
CURRENT, HISTORY = "CURRENT", "history.jsonl"


def _folder(models_dir: Path, kind: str) -> Path:
    if kind not in KINDS:
        raise InputError(f"model kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return models_dir / kind


def versions(models_dir: Path, kind: str) -> list[str]:
    folder = _folder(models_dir, kind)
    return sorted(p.name for p in folder.glob("v[0-9][0-9][0-9][0-9]") if p.is_dir()) if folder.exists() else []


def current(models_dir: Path, kind: str) -> str | None:
    pointer = _folder(models_dir, kind) / CURRENT
    return pointer.read_text(encoding="utf-8").strip() or None if pointer.exists() else None


def current_path(models_dir: Path | None, kind: str) -> Path | None:
    """The live version's directory, or None if there is none (workers then use their configured model)."""
    if models_dir is None:
        return None
    name = current(models_dir, kind)
    return _folder(models_dir, kind) / name if name else None


def add(models_dir: Path, kind: str, checkpoint: Path) -> str:
    """Copy a checkpoint in as the next version (not live yet); returns its name."""
    existing = versions(models_dir, kind)
    name = f"v{int(existing[-1][1:]) + 1 if existing else 1:04d}"
    shutil.copytree(checkpoint, _folder(models_dir, kind) / name)
    return name


def promote(models_dir: Path, kind: str, name: str, reason: str) -> None:
    if name not in versions(models_dir, kind):
        raise InputError(f"there is no {kind} version {name!r}; `implementor models list` shows them")
    previous = current(models_dir, kind)
    pointer = _folder(models_dir, kind) / CURRENT
    tmp = pointer.with_name(f".{CURRENT}.tmp")
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, pointer)
    with (_folder(models_dir, kind) / HISTORY).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"at": time.time(), "live": name, "was": previous, "why": reason}) + "\n")


def rollback(models_dir: Path, kind: str, reason: str = "rolled back by an operator") -> str:
    """Make the version that was live before the current one live again; returns its name."""
    history = [json.loads(line) for line in (_folder(models_dir, kind) / HISTORY).read_text().splitlines()
               ] if (_folder(models_dir, kind) / HISTORY).exists() else []
    now = current(models_dir, kind)
    earlier = next((h["was"] for h in reversed(history) if h["live"] == now and h["was"]), None)
    if earlier is None:
        raise InputError(f"no earlier {kind} version to roll back to")
    promote(models_dir, kind, earlier, reason)
    return earlier


def describe(models_dir: Path, kind: str) -> list[dict[str, Any]]:
    """Every version with its card's metrics, the live one marked."""
    live = current(models_dir, kind)
    out = []
    for name in versions(models_dir, kind):
        card_path = _folder(models_dir, kind) / name / "card.json"
        card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.exists() else {}
        out.append({"version": name, "live": name == live, "created": card.get("created"),
                    "metrics": card.get("learning", {}).get("held_out", card.get("metrics", {}).get("validation"))})
    return out
