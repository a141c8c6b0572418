"""How likely drafts are under the float32 PyTorch model: the measure engines' sampled drafts are compared by."""

from __future__ import annotations

import torch

from implementor.models.writer.model import Writer


def mean_log_likelihood(writer: Writer, prompt: list[int], drafts: list[list[int]]) -> float:
    """Mean log-probability per token of drafts under the fp32 PyTorch model."""
    total, count = 0.0, 0
    with torch.inference_mode():
        for draft in drafts:
            if not draft:
                continue
            sequence = torch.tensor([prompt + draft])
            logits = writer.model(input_ids=sequence).logits[0, len(prompt) - 1 : -1].float()
            total += float(logits.log_softmax(-1).gather(1, torch.tensor(draft)[:, None]).sum())
            count += len(draft)
    return total / count
