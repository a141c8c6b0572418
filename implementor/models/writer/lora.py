"""LoRA (Hu et al. 2021, *Low-Rank Adaptation of Large Language Models*) for the writer's linear layers.

A pretrained base stays frozen; each adapted `nn.Linear` gains two small matrices, A (r x in) and
B (out x r), and computes `W x + (alpha / r) B A x`. B starts at zero, so an adapter that has not
trained yet changes nothing. Only A and B are trained and saved, which is why a fine-tuned SmolLM2
ships as a few megabytes instead of 538 MB.

`inject` wraps the chosen projections of the chosen layers, `adapter_state` / `load_adapter_state`
move the trained matrices to and from a safetensors file, and `merge` folds them into the base's
weights, leaving a plain model of the base's architecture that any engine can run.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from implementor.contracts.errors import CheckpointError

# The projections of a Llama block and of a GPT-2 block (whose attention is one fused `c_attn`,
# and whose linears are `Conv1D`s that store the weight transposed).
LLAMA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
GPT2_TARGETS = ("c_attn", "c_proj", "c_fc")
_LAYER = re.compile(r"\.(?:layers|h)\.(\d+)\.")


@dataclass(frozen=True)
class LoRAConfig:
    """Which linears are adapted and how strongly."""

    r: int = 16
    alpha: float = 32.0  # alpha / r = 2: the usual scale, so the learning rate need not change with r
    targets: tuple[str, ...] = LLAMA_TARGETS
    # Adapt only the top `layers` blocks (None: all); the lower blocks then need no gradient at all,
    # which halves a step's cost for a small loss in quality (measured in the writer's card).
    layers: int | None = None
    dropout: float = 0.05

    def __post_init__(self) -> None:
        if self.r < 1 or self.alpha <= 0 or not self.targets:
            raise ValueError("LoRA needs r >= 1, alpha > 0 and at least one target")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "targets": list(self.targets)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoRAConfig:
        return cls(**{**data, "targets": tuple(data["targets"])})


class LoRALinear(nn.Module):
    """A frozen linear layer plus its trainable low-rank update."""

    def __init__(self, base: nn.Module, r: int, alpha: float, dropout: float) -> None:
        super().__init__()
        weight: torch.Tensor = base.weight  # type: ignore[assignment]
        # transformers' GPT-2 Conv1D keeps the weight as (in, out); nn.Linear as (out, in).
        self.transposed = type(base).__name__ == "Conv1D"
        out_features, in_features = (weight.shape[1], weight.shape[0]) if self.transposed else tuple(weight.shape)
        self.base = base
        self.scale = alpha / r
        self.dropout = nn.Dropout(dropout)
        self.lora_a = nn.Parameter(torch.empty(r, in_features, dtype=weight.dtype, device=weight.device))
        self.lora_b = nn.Parameter(torch.zeros(out_features, r, dtype=weight.dtype, device=weight.device))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))  # nn.Linear's own initialisation
        for p in self.base.parameters():
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = self.dropout(x) @ self.lora_a.t() @ self.lora_b.t()  # (B, T, in) -> (B, T, out)
        return self.base(x) + update * self.scale

    def merged(self) -> nn.Module:
        """The base layer with the update folded into its weight (in place)."""
        delta = (self.lora_b @ self.lora_a) * self.scale  # (out, in)
        weight: torch.Tensor = self.base.weight  # type: ignore[assignment]
        with torch.no_grad():
            weight += (delta.t() if self.transposed else delta).to(weight.dtype)
        return self.base


def _layer_count(model: nn.Module) -> int:
    layers = {int(m.group(1)) for name, _ in model.named_modules() if (m := _LAYER.search(name + "."))}
    return max(layers) + 1 if layers else 0


def targets_for(model: nn.Module) -> tuple[str, ...]:
    """The projections to adapt in this architecture."""
    return GPT2_TARGETS if getattr(model.config, "model_type", "") == "gpt2" else LLAMA_TARGETS


def inject(model: nn.Module, config: LoRAConfig) -> int:
    """Freeze the model and wrap its target linears in LoRA; returns the number of trainable parameters."""
    for p in model.parameters():
        p.requires_grad_(False)
    first = _layer_count(model) - config.layers if config.layers is not None else 0
    wrapped = 0
    for name, module in list(model.named_modules()):
        leaf = name.rsplit(".", 1)[-1]
        found = _LAYER.search(name + ".")
        if leaf not in config.targets or found is None or int(found.group(1)) < first:
            continue
        parent = model.get_submodule(name.rsplit(".", 1)[0])
        setattr(parent, leaf, LoRALinear(module, config.r, config.alpha, config.dropout))
        wrapped += 1
    if not wrapped:
        raise CheckpointError(f"no layer of this model is named {list(config.targets)}: nothing to adapt")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def adapter_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The trained matrices only, by module name (what a fine-tuned checkpoint ships)."""
    return {name: p.detach().contiguous() for name, p in model.named_parameters() if ".lora_" in name}


def load_adapter_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Put saved matrices into an injected model; every saved one must find its place, and fit."""
    own = dict(model.named_parameters())
    missing = sorted(set(state) - set(own))
    absent = sorted(k for k in own if ".lora_" in k and k not in state)
    if missing or absent:
        raise CheckpointError(f"the adapter does not fit this base: {len(missing)} of its matrices have no place "
                              f"(e.g. {missing[:1]}), {len(absent)} places have no matrix (e.g. {absent[:1]})")
    with torch.no_grad():
        for name, tensor in state.items():
            if own[name].shape != tensor.shape:
                raise CheckpointError(f"the adapter's {name} is {tuple(tensor.shape)}, the base wants "
                                      f"{tuple(own[name].shape)}: made for another base")
            own[name].copy_(tensor)


def merge(model: nn.Module) -> nn.Module:
    """Fold every LoRA update into its base layer; the model is the base's plain architecture again."""
    for name, module in list(model.named_modules()):
        if isinstance(module, LoRALinear):
            parent_name, leaf = name.rsplit(".", 1)
            setattr(model.get_submodule(parent_name), leaf, module.merged())
    return model
