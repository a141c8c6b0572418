"""LoRA: a merged adapter computes what the adapted model computed (minGPT's parity habit), for both families."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from implementor.contracts.errors import CheckpointError
from implementor.models.writer.lora import LoRAConfig, adapter_state, inject, load_adapter_state, merge, targets_for


def _load(path: Path) -> torch.nn.Module:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(path), use_safetensors=True).eval()


@pytest.mark.parametrize("family", ["llama", "gpt2"])
def test_a_merged_adapter_gives_the_adapted_models_logits(family: str, tiny_llama_base: Path,
                                                          tiny_gpt2_base: Path) -> None:
    model = _load(tiny_llama_base if family == "llama" else tiny_gpt2_base)
    ids = torch.randint(0, 500, (2, 12))
    with torch.no_grad():
        plain = model(input_ids=ids).logits
    inject(model, LoRAConfig(r=4, alpha=8, targets=targets_for(model), dropout=0.0))
    with torch.no_grad():
        assert torch.allclose(model(input_ids=ids).logits, plain, atol=1e-6)  # B starts at zero: no change
        for name, p in model.named_parameters():
            if name.endswith("lora_b"):
                p.normal_(0, 0.5)
        adapted = model(input_ids=ids).logits
    assert not torch.allclose(adapted, plain, atol=1e-3)
    merged = merge(model)
    assert not any(".lora_" in name for name, _ in merged.named_parameters())
    with torch.no_grad():
        assert torch.allclose(merged(input_ids=ids).logits, adapted, atol=1e-4)


def test_only_the_adapter_trains_and_the_top_layers_option_adapts_only_those(tiny_llama_base: Path) -> None:
    model = _load(tiny_llama_base)
    trainable = inject(model, LoRAConfig(r=2, layers=1))
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names and all(".lora_" in n and ".layers.1." in n for n in names)
    assert trainable == sum(p.numel() for n, p in model.named_parameters() if p.requires_grad)


def test_an_adapter_for_another_base_is_refused(tiny_llama_base: Path) -> None:
    model = _load(tiny_llama_base)
    inject(model, LoRAConfig(r=2))
    state = adapter_state(model)
    other = _load(tiny_llama_base)
    inject(other, LoRAConfig(r=4))
    with pytest.raises(CheckpointError, match="made for another base"):
        load_adapter_state(other, state)
    fewer = _load(tiny_llama_base)
    inject(fewer, LoRAConfig(r=2, layers=1))
    with pytest.raises(CheckpointError, match="does not fit this base"):
        load_adapter_state(fewer, state)
