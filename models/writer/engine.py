"""How drafts are sampled: the PyTorch loop (`sampling.py`) or CTranslate2, behind one interface.

`Engine.sample(prompts, n, settings, seed)` returns, per prompt, n continuations (token ids) and
whether each ended with the end token, with the live sampling settings (temperature, top-k, top-p,
repetition control) and one prefill per prompt however many drafts it gets. The same seed gives the
same drafts; no seed (a bot's job) gives fresh ones.

- `TorchEngine` is the reference: training, evaluation and the parity tests use it, and it needs
  nothing beyond the checkpoint.
- `CTranslate2Engine` runs the checkpoint's converted copy (`ctranslate2/`, int8 weights, made by
  `implementor export ctranslate2` or at the end of `train text`): int8 on the CPU, int8_float16 on
  CUDA. Prompts of different lengths in one call are padded on the left with end tokens (the
  boundary a document sits behind in training), so that CTranslate2 runs every prompt in one
  forward pass and its repetition control sees each draft alone. CTranslate2 seeds a sampling
  thread's random generator once, when the thread first samples: a seeded call therefore runs on a
  generator of its own, loaded from the weights kept in memory (tens of milliseconds), and unseeded
  calls share one.

`load_engine(writer, name)` picks one: `auto` is CTranslate2 when it is installed and the
checkpoint has a converted copy, else PyTorch.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import torch

from contracts.errors import CheckpointError, ConfigError
from models.common.checkpoint import sha256_file
from models.writer.model import SamplingSettings, Writer
from models.writer.sampling import StopWhen, sample_many

log = logging.getLogger(__name__)

CT2_DIR = "ctranslate2"
Samples = list[tuple[list[list[int]], list[bool]]]  # per prompt: n drafts' token ids, and whether each ended


class Engine(Protocol):
    name: str

    def sample(self, prompts: list[list[int]], n: int, settings: SamplingSettings, seed: int | None,
               min_new_tokens: int = 0, stop: StopWhen | None = None) -> Samples: ...


class TorchEngine:
    name = "torch"

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def sample(self, prompts: list[list[int]], n: int, settings: SamplingSettings, seed: int | None,
               min_new_tokens: int = 0, stop: StopWhen | None = None) -> Samples:
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)).item())
        generator = torch.Generator(device=self.writer.device).manual_seed(seed)
        return sample_many(self.writer, prompts, n, settings, generator, min_new_tokens, stop)


def ct2_available() -> bool:
    try:
        import ctranslate2  # noqa: F401
    except ImportError:
        return False
    return True


def compute_type(device: torch.device) -> str:
    """int8 weights everywhere; on a GPU the activations in float16 (CTranslate2 converts at load)."""
    return "int8_float16" if device.type == "cuda" else "int8"


class CTranslate2Engine:
    name = "ctranslate2"

    def __init__(self, writer: Writer, threads: int | None = None, compute: str | None = None) -> None:
        """`compute` overrides the compute type (float32 for the parity tests; default: by device)."""
        import ctranslate2

        if not has_converted_copy(writer):
            raise ConfigError(f"{writer.path} has no converted copy for CTranslate2; make one with "
                              f"`implementor export ctranslate2 {writer.path}`, or set IMPLEMENTOR_WRITER_ENGINE=torch")
        assert writer.served_from is not None
        folder = writer.served_from / CT2_DIR
        expected = writer.card.get("ctranslate2", {}).get("sha256")
        if expected and sha256_file(folder / "model.bin") != expected:
            raise CheckpointError(f"{folder / 'model.bin'} does not match the sha256 in the card: corrupt or replaced")
        self.writer, self._ctranslate2 = writer, ctranslate2
        self.compute_type = compute or compute_type(writer.device)
        self._files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        self._options = {"device": "cuda" if writer.device.type == "cuda" else "cpu",
                         "device_index": writer.device.index or 0, "compute_type": self.compute_type,
                         "intra_threads": threads or torch.get_num_threads()}
        self.generator = self._new_generator()

    def _new_generator(self) -> Any:
        return self._ctranslate2.Generator("writer", files=self._files, **self._options)

    def _tokens(self, ids: list[int]) -> list[str]:
        tokens: list[str] = self.writer.tokenizer.convert_ids_to_tokens(ids)
        return tokens

    def sample(self, prompts: list[list[int]], n: int, settings: SamplingSettings, seed: int | None,
               min_new_tokens: int = 0, stop: StopWhen | None = None) -> Samples:
        """`stop` is not CTranslate2's to apply: its drafts run to the end token, and are cut as they are cleaned."""
        eos = self.writer.eos_id
        width = max(map(len, prompts))
        padded = [self._tokens([eos] * (width - len(p)) + p) for p in prompts]
        generator = self.generator
        if seed is not None:  # a generator whose sampling thread starts from this seed
            self._ctranslate2.set_random_seed(seed % 2**32)
            generator = self._new_generator()
        results = generator.generate_batch(
            padded, max_length=settings.max_new_tokens, min_length=min_new_tokens, include_prompt_in_result=False,
            num_hypotheses=n, beam_size=1, sampling_topk=settings.top_k or 0, sampling_topp=settings.top_p,
            sampling_temperature=settings.temperature, repetition_penalty=settings.repetition_penalty,
            no_repeat_ngram_size=settings.no_repeat_ngram_size, end_token=self.writer.format.end,
            return_end_token=True)
        out: Samples = []
        for result in results:
            rows = [list(ids) for ids in result.sequences_ids]
            ended = [bool(row) and row[-1] == eos for row in rows]
            out.append(([row[:-1] if done else row for row, done in zip(rows, ended, strict=True)], ended))
        return out


def load_engine(writer: Writer, name: str = "auto", threads: int | None = None) -> Any:
    """The engine a setting names (`auto`, `llama.cpp`, `ctranslate2` or `torch`) for a loaded writer.

    `auto` takes the fastest that can run this writer here: on a CPU llama.cpp (when installed and
    the writer has a GGUF copy), then CTranslate2, then PyTorch; on a GPU CTranslate2, then PyTorch.
    An engine that is there but cannot load the writer is skipped with one warning."""
    from models.writer.llama_engine import LlamaCppEngine, llama_cpp_available

    if name == "torch":
        return TorchEngine(writer)
    if name == "ctranslate2":
        if not ct2_available():
            raise ConfigError("IMPLEMENTOR_WRITER_ENGINE=ctranslate2, but CTranslate2 is not installed "
                              "(pip install ctranslate2), or set it to auto or torch")
        return CTranslate2Engine(writer, threads)
    if name == "llama.cpp":
        if not llama_cpp_available():
            raise ConfigError("IMPLEMENTOR_WRITER_ENGINE=llama.cpp, but llama-cpp-python is not installed "
                              "(make install builds it: requirements/build_llama_cpp.sh), or set it to auto")
        return LlamaCppEngine(writer, threads)
    if name != "auto":
        raise ConfigError(f"unknown writer engine {name!r}: use auto, llama.cpp, ctranslate2 or torch")
    candidates: list[tuple[str, Any]] = []
    if writer.device.type == "cpu" and llama_cpp_available() and has_gguf_copy(writer):
        candidates.append(("llama.cpp", LlamaCppEngine))
    if ct2_available() and has_converted_copy(writer):
        candidates.append(("CTranslate2", CTranslate2Engine))
    for label, engine in candidates:
        try:
            return engine(writer, threads)
        except (RuntimeError, ValueError, OSError, ConfigError) as exc:
            # CTranslate2 built for another CUDA (cuBLAS 12 against torch's CUDA 13), a llama.cpp library
            # that cannot run here, a copy it cannot read: drafting still works, and the operator is told once.
            log.warning("%s could not load the writer on %s (%s); trying the next engine. "
                        "Set IMPLEMENTOR_WRITER_ENGINE to silence this.", label, writer.device, exc)
    if not candidates:
        log.info("drafting with PyTorch: no faster engine is installed for %s", writer.path)
    return TorchEngine(writer)


def has_gguf_copy(writer: Writer) -> bool:
    """Whether the directory the writer is served from holds its GGUF copy (for llama.cpp)."""
    from models.writer.llama_file import GGUF_FILE

    return writer.served_from is not None and (writer.served_from / GGUF_FILE).is_file()


def has_converted_copy(writer: Writer) -> bool:
    """Whether the directory the writer is served from holds its CTranslate2 copy."""
    return writer.served_from is not None and (writer.served_from / CT2_DIR / "model.bin").exists()
