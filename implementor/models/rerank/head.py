"""Scoring (prompt, text) pairs with a BERT encoder and a small trained head.

Both rerankers are this one model with different training data, after the GPT-2 + BERT reddit bot:
the realism discriminator outputs P(real), the quality model the expected rating. The encoder reads
the pair as BERT does, "[CLS] prompt [SEP] text [SEP]", so it can attend across the two; the head
is an MLP on mean-pooled hidden states of a few layers. Lower layers carry more of the surface form
(word order, fluency), the last layer more of the meaning; using several serves both heads.

Two ways to train, chosen by `finetuned_encoder`:
- frozen encoder (the CPU default): features are computed once, only the head learns, and the
  checkpoint holds just the head (about 1 MB); live, both heads share one encoder pass;
- fine-tuned encoder (with a GPU): encoder and head learn together, and the checkpoint also holds
  the encoder, in `encoder/` (save_pretrained).

A checkpoint records the fingerprint of the encoder it was trained on; loading it onto another is
refused, because the head's inputs would mean something else.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from implementor.contracts.errors import CheckpointError
from implementor.models.common.checkpoint import WEIGHTS_FILE, check_state_dict, load_checkpoint, save_checkpoint
from implementor.models.common.encoder import SentenceEncoder

log = logging.getLogger(__name__)

ENCODER_DIR = "encoder"


@dataclass(frozen=True)
class HeadConfig:
    task: Literal["realism", "quality"]
    encoder: str  # as configured: a hub name, a directory, or "all-MiniLM-L6-v2"
    encoder_fingerprint: str  # SentenceEncoder.fingerprint() of the encoder it was trained on
    encoder_width: int
    # Which hidden layers are pooled (1 = first transformer layer). MiniLM has 6.
    layers: tuple[int, ...] = (2, 4, 6)
    hidden: int = 256
    dropout: float = 0.1
    # BERT's limit; a whole CV body plus its prompt fits.
    max_length: int = 512
    finetuned_encoder: bool = False

    @property
    def features(self) -> int:
        return len(self.layers) * self.encoder_width

    def to_dict(self) -> dict[str, Any]:
        return {"architecture": "pair-head", **asdict(self), "layers": list(self.layers)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeadConfig:
        data = dict(data)
        if data.pop("architecture", None) != "pair-head":
            raise CheckpointError("config.json does not describe a pair-scoring head")
        known = {f.name for f in fields(cls)}
        if set(data) - known:
            raise CheckpointError(f"config.json has keys a pair head does not know: {sorted(set(data) - known)}")
        try:
            return cls(**{**data, "layers": tuple(data.get("layers", (2, 4, 6)))})
        except TypeError as exc:
            raise CheckpointError(f"config.json is not a valid pair-head config: {exc}") from None


class PairHead(nn.Module):
    """features (B, F) -> logit (B,)."""

    def __init__(self, config: HeadConfig) -> None:
        super().__init__()
        self.config = config
        self.net = nn.Sequential(
            nn.LayerNorm(config.features),  # pooled BERT states differ in scale from layer to layer
            nn.Linear(config.features, config.hidden),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, 1),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features).squeeze(-1)


class PairScorer:
    """An encoder and a head: `logits(prompts, texts)`; the task decides how to read them."""

    def __init__(self, encoder: SentenceEncoder, head: PairHead, card: dict[str, Any] | None = None,
                 path: Path | None = None) -> None:
        self.encoder = encoder
        self.head = head.to(encoder.device).eval()
        self.config = head.config
        self.card = card or {}
        self.path = path

    @torch.inference_mode()
    def logits_from_features(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features.to(self.encoder.device)).float().cpu()

    def features(self, prompts: list[str], texts: list[str]) -> torch.Tensor:
        return self.encoder.pair_features(prompts, texts, self.config.layers, self.config.max_length)

    def logits(self, prompts: list[str], texts: list[str]) -> torch.Tensor:
        return self.logits_from_features(self.features(prompts, texts))

    def save(self, directory: Path, card: dict[str, Any]) -> dict[str, Any]:
        if self.config.finetuned_encoder:
            self.encoder.model.save_pretrained(directory / ENCODER_DIR, safe_serialization=True)
            self.encoder.tokenizer.save_pretrained(directory / ENCODER_DIR)
        return save_checkpoint(directory, self.config.to_dict(), self.head.state_dict(), card)

    @classmethod
    def load(cls, path: Path | str, encoder: SentenceEncoder | None, task: str, device: str = "auto") -> PairScorer:
        """Load a head; a frozen-encoder head needs the encoder it was trained on, passed in and checked."""
        path = Path(path).expanduser()
        ckpt = load_checkpoint(path)
        config = HeadConfig.from_dict(ckpt.config)
        if config.task != task:
            raise CheckpointError(f"{path} holds a {config.task} head, not a {task} head")
        if config.finetuned_encoder:
            encoder = SentenceEncoder.load(path / ENCODER_DIR, device)
        elif encoder is None:
            raise CheckpointError(f"{path} was trained on the frozen encoder {config.encoder!r}; load it first")
        if encoder.fingerprint() != config.encoder_fingerprint or encoder.width != config.encoder_width:
            raise CheckpointError(
                f"{path} was trained on the encoder {config.encoder!r} (fingerprint "
                f"{config.encoder_fingerprint[:12]}), but the configured encoder {encoder.name!r} is a different "
                f"model (fingerprint {encoder.fingerprint()[:12]}). Set IMPLEMENTOR_ENCODER to the encoder it was "
                f"trained on, or retrain with `implementor train {task}`."
            )
        head = PairHead(config)
        check_state_dict(head, ckpt.tensors, str(path / WEIGHTS_FILE))
        head.load_state_dict(ckpt.tensors)
        log.info("loaded %s head %s (on %s)", task, path, config.encoder)
        return cls(encoder, head, ckpt.card, path)
