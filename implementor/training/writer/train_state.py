"""A writer training run in progress, saved after every epoch so that `--resume` continues it exactly.

`training_state.safetensors`, beside the best checkpoint, holds the last finished epoch's weights,
the optimiser's state and the random state; its metadata holds where the run stands (`TrainRun`).
Nothing is pickled: tensors go to safetensors, the rest to JSON.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from implementor.contracts.errors import CheckpointError
from implementor.models.common.checkpoint import (
    check_state_dict,
    load_tensors,
    optimizer_from_tensors,
    optimizer_to_tensors,
    read_metadata,
    save_tensors,
)

STATE_FILE = "training_state.safetensors"


@dataclass
class TrainRun:
    """Where a training run stands after an epoch: what `--resume` needs to continue it exactly."""

    epoch: int = 0
    step: int = 0
    best: float = math.inf
    stale: int = 0
    wall_time_s: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)


def save_state(out_dir: Path, model: Any, optimizer: torch.optim.Optimizer, run: TrainRun, rng: random.Random) -> None:
    """The last finished epoch's weights, optimiser and random state, beside the best checkpoint (no pickle)."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    opt_tensors, groups = optimizer_to_tensors("optimizer", optimizer)
    tensors |= opt_tensors
    tensors["rng.torch"] = torch.get_rng_state()
    version, state, gauss = rng.getstate()
    meta = {"run": asdict(run), "groups": groups, "python_rng": [version, list(state), gauss]}
    save_tensors(out_dir / STATE_FILE, tensors, {"trainer": json.dumps(meta)})


def load_state(out_dir: Path, model: Any, optimizer: torch.optim.Optimizer, rng: random.Random) -> TrainRun:
    """Restore what `save_state` wrote; the model and optimiser must be built as in the saved run."""
    path = out_dir / STATE_FILE
    if not path.exists():
        raise CheckpointError(f"{out_dir} has no {STATE_FILE}: nothing to resume (train without --resume)")
    tensors = load_tensors(path)
    meta = json.loads(read_metadata(path).get("trainer", "{}"))
    weights = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
    check_state_dict(model, weights, str(path))
    model.load_state_dict(weights)
    optimizer_from_tensors(optimizer, "optimizer", tensors, meta["groups"])
    torch.set_rng_state(tensors["rng.torch"])
    version, state, gauss = meta["python_rng"]
    rng.setstate((version, tuple(state), gauss))
    return TrainRun(**meta["run"])
