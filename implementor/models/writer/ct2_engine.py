"""The CTranslate2 engine: the checkpoint's converted copy (`ctranslate2/`, int8 weights, made by
`implementor export ctranslate2` or at the end of `train text`, see `ct2_file.py`).

int8 on the CPU, int8_float16 on CUDA. Prompts of different lengths in one call are padded on the left
with end tokens (the boundary a document sits behind in training), so that CTranslate2 runs every
prompt in one forward pass and its repetition control sees each draft alone. CTranslate2 seeds a
sampling thread's random generator once, when the thread first samples: a seeded call therefore runs
on a generator of its own, loaded from the weights kept in memory (tens of milliseconds), and
unseeded calls share one.
"""

from __future__ import annotations

from typing import Any

import torch

from implementor.contracts.errors import CheckpointError, ConfigError
from implementor.models.common.checkpoint import sha256_file
from implementor.models.writer.ct2_file import CT2_DIR
from implementor.models.writer.engine import Samples
from implementor.models.writer.model import SamplingSettings, Writer
from implementor.models.writer.sampling import Progress, StopWhen


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
               min_new_tokens: int = 0, stop: StopWhen | None = None, progress: Progress | None = None
               ) -> Samples:
        """`stop` is not CTranslate2's to apply: its drafts run to the end token, and are cut as they are cleaned.
        Nor is `progress`: `generate_batch` is one call (its per-token callback would cost a Python call per
        draft per token), so a caller following it hears nothing until it returns."""
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


def has_converted_copy(writer: Writer) -> bool:
    """Whether the directory the writer is served from holds its CTranslate2 copy."""
    return writer.served_from is not None and (writer.served_from / CT2_DIR / "model.bin").exists()
