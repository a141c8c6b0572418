"""llama.cpp used the plain way, for the benchmarks: llama-cpp-python's high-level `Llama` on a GGUF file.

This is what a user who picks llama.cpp instead of the project writes: one `Llama` object, one
draft after another. `write_exactly` takes exactly k tokens from `Llama.generate`, the library's
own token generator: it never stops by itself (stopping at an end token is `create_completion`'s
work), so k tokens are always k decode steps, the same count every other path writes with its
end token held back. An end token drawn mid-way is decoded like any other token, which costs the
same step; no logits processor bans it, because the high-level API runs processors in Python over
the whole vocabulary at every step, a cost llama.cpp's own `ignore_eos` does not have.

Sampling is the nearest llama.cpp has to the live settings: temperature, top-k and top-p as they
are, min-p off, and `repeat_penalty` (llama.cpp's, over the last 64 tokens, prompt included); it
has no `no_repeat_ngram_size`.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import torch

from implementor.models.writer.model import SamplingSettings


def plain_llama(path: Path, n_ctx: int, logits_all: bool = False) -> Any:
    """A high-level `Llama` on `path` with the threads every other path gets (torch's count);
    `logits_all` keeps every position's logits (`Llama.scores`), for likelihoods."""
    import llama_cpp

    threads = torch.get_num_threads()
    return llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                           logits_all=logits_all, verbose=False)


def write_exactly(llm: Any, prompt: list[int], k: int, settings: SamplingSettings, fresh: bool = True) -> list[int]:
    """k tokens after `prompt`: read afresh when `fresh`, else from what the library's prefix cache
    keeps of the last call (all of it, for the same prompt: one request's second and later drafts)."""
    if fresh:
        llm.reset()
    tokens = llm.generate(prompt, top_k=settings.top_k, top_p=settings.top_p, min_p=0.0,
                          temp=settings.temperature, repeat_penalty=settings.repetition_penalty)
    return list(itertools.islice(tokens, k))


def gguf_weights(path: Path) -> tuple[int, str]:
    """Bytes of the tensors a GGUF file holds (what one batch-1 decode step reads: the tied
    embedding counts once, as the output matrix read at every step), and the type most of them have."""
    import gguf

    tensors = gguf.GGUFReader(str(path)).tensors
    by_type: dict[str, int] = {}
    for tensor in tensors:
        by_type[tensor.tensor_type.name] = by_type.get(tensor.tensor_type.name, 0) + int(tensor.n_bytes)
    return sum(by_type.values()), max(by_type, key=by_type.__getitem__)
