"""The one interface every drafting engine offers: `Engine.sample`.

`Engine.sample(prompts, n, settings, seed)` returns, per prompt, n continuations (token ids) and
whether each ended with the end token, with the live sampling settings (temperature, top-k, top-p,
repetition control) and one prefill per prompt however many drafts it gets. The same seed gives the
same drafts; no seed (a bot's job) gives fresh ones. `stop` ends a row early where the engine can
check it as it goes (the drafting rules' stop-and-cut), else its drafts are cut as they are cleaned.
`progress`, where the engine decodes step by step (PyTorch, llama.cpp), hears after each step the
share of the call's token budget spent, 0..1: a finished draft counts as all of its budget, so the
share only grows and reaches 1 when the last draft ends. It costs a float per step (no extra device
sync); CTranslate2 decodes in one opaque call and reports nothing.

The engines, each in its own module:
- `torch_engine.TorchEngine`: the PyTorch loop (`sampling.py`), the reference that training,
  evaluation and the parity tests use; it needs nothing beyond the checkpoint.
- `ct2_engine.CTranslate2Engine`: the checkpoint's int8 copy for CTranslate2 (`ct2_file.py`).
- `llama_engine.LlamaCppEngine`: the GGUF copy on llama.cpp (`llama_file.py`), the fastest on a CPU.

`engine_choice.load_engine(writer, name)` picks one for a loaded writer.
"""

from __future__ import annotations

from typing import Protocol

from implementor.models.writer.model import SamplingSettings
from implementor.models.writer.sampling import Progress, StopWhen

Samples = list[tuple[list[list[int]], list[bool]]]  # per prompt: n drafts' token ids, and whether each ended


class Engine(Protocol):
    name: str

    def sample(self, prompts: list[list[int]], n: int, settings: SamplingSettings, seed: int | None,
               min_new_tokens: int = 0, stop: StopWhen | None = None, progress: Progress | None = None
               ) -> Samples: ...
