"""The PyTorch engine: the reference loop (`sampling.sample_many`) behind the engine interface."""

from __future__ import annotations

import torch

from implementor.models.writer.engine import Samples
from implementor.models.writer.model import SamplingSettings, Writer
from implementor.models.writer.sampling import Progress, StopWhen, sample_many


class TorchEngine:
    name = "torch"

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def sample(self, prompts: list[list[int]], n: int, settings: SamplingSettings, seed: int | None,
               min_new_tokens: int = 0, stop: StopWhen | None = None, progress: Progress | None = None
               ) -> Samples:
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)).item())
        generator = torch.Generator(device=self.writer.device).manual_seed(seed)
        return sample_many(self.writer, prompts, n, settings, generator, min_new_tokens, stop, progress)
