"""The reranker: both heads score a job's drafts, and the policy (`policy.py`) picks the one to post.

`Reranker` scores drafts with the realism and quality heads, sharing one encoder pass when both sit
on the same frozen encoder, and warns when the writer samples differently from the drafts the
realism discriminator was trained against (`sampling_mismatch`). A realism head calibrated on
held-out real texts (its card's `calibration`, per task) has its logits shifted so that the live
threshold means what the card says: a known share of real texts falls below it.

Which heads are live (a promoted version, the configured ones or the bundled ones) is not decided
here: `store/live.py` resolves them and callers pass the paths in; None means the bundled heads.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from implementor.models import BUNDLED
from implementor.models.common.encoder import SentenceEncoder
from implementor.models.rerank.head import PairScorer
from implementor.models.rerank.policy import Ranked, RerankPolicy, choose
from implementor.models.writer.model import LiveSampling, SamplingSettings

log = logging.getLogger(__name__)

BUNDLED_REALISM = BUNDLED / "realism-minilm"
BUNDLED_QUALITY = BUNDLED / "quality-minilm"
BUNDLED_JUDGE = BUNDLED / "judge-realism"  # only `eval rerank` uses it


class Reranker:
    """The realism and quality heads, ready to score drafts for one prompt."""

    def __init__(self, realism: PairScorer, quality: PairScorer, policy: RerankPolicy | None = None) -> None:
        self.realism, self.quality = realism, quality
        self.policy = policy or RerankPolicy()
        self.shared = (realism.encoder is quality.encoder and not realism.config.finetuned_encoder
                       and not quality.config.finetuned_encoder and realism.config.layers == quality.config.layers
                       and realism.config.max_length == quality.config.max_length)

    @classmethod
    def load(cls, realism: Path | str | None = None, quality: Path | str | None = None,
             encoder: str = "all-MiniLM-L6-v2", device: str = "auto", policy: RerankPolicy | None = None) -> Reranker:
        """Both heads on one encoder; None means the bundled heads."""
        shared = SentenceEncoder.load(encoder, device)
        return cls(PairScorer.load(realism or BUNDLED_REALISM, shared, "realism", device),
                   PairScorer.load(quality or BUNDLED_QUALITY, shared, "quality", device), policy)

    def with_heads(self, realism: Path | None = None, quality: Path | None = None) -> Reranker:
        """The same reranker with other heads (a newly promoted version) on the same encoder; None keeps one."""
        encoder = self.realism.encoder
        device = str(encoder.device)
        return Reranker(PairScorer.load(realism, encoder, "realism", device) if realism else self.realism,
                        PairScorer.load(quality, encoder, "quality", device) if quality else self.quality, self.policy)

    def check_sampling(self, live: LiveSampling) -> list[str]:
        """Warn (once per call) if the writer samples differently from the fakes the discriminator saw."""
        problems = sampling_mismatch(self.realism.card.get("sampling"), live)
        if problems:
            log.warning("the live sampling settings differ from those the realism discriminator was trained "
                        "on, so its P(real) may be off: %s", "; ".join(problems))
        return problems

    def scores(self, prompt: str, texts: list[str], task: str | None = None) -> tuple[list[float], list[float]]:
        """P(real) and expected rating (1-5) of each draft of one prompt, in one batch."""
        return self.scores_for([prompt] * len(texts), texts, task)

    def scores_for(self, prompts: list[str], texts: list[str], task: str | None = None
                   ) -> tuple[list[float], list[float]]:
        """P(real) (calibrated for `task`, "cv" or "reply", when the head's card says how) and expected
        rating (1-5) of (prompt, draft) rows, in one batch per head."""
        if self.shared:
            features = self.realism.features(prompts, texts)
            real_logits = self.realism.logits_from_features(features)
            quality_logits = self.quality.logits_from_features(features)
        else:
            real_logits, quality_logits = self.realism.logits(prompts, texts), self.quality.logits(prompts, texts)
        real_logits = real_logits + calibration_shift(self.realism.card, task)
        return torch.sigmoid(real_logits).tolist(), (1.0 + 4.0 * torch.sigmoid(quality_logits)).tolist()

    def rerank(self, prompt: str, texts: list[str], task: str | None = None) -> Ranked:
        return self.rerank_many([(prompt, texts)], task)[0]

    def rerank_many(self, groups: list[tuple[str, list[str]]], task: str | None = None,
                    explore: Sequence[float | None] | None = None) -> list[Ranked]:
        """Rerank the drafts of several prompts of one task, scoring all of them in one batch. `explore`:
        a share of exploration per prompt (a server's own), where the policy's is not to be used."""
        prompts = [prompt for prompt, texts in groups for _ in texts]
        texts = [text for _, group in groups for text in group]
        p_real, quality = self.scores_for(prompts, texts, task)
        ranked, start = [], 0
        for i, (_, group) in enumerate(groups):
            end = start + len(group)
            own = explore[i] if explore is not None else None
            policy = self.policy if own is None else replace(self.policy, explore=own)
            ranked.append(choose(group, p_real[start:end], quality[start:end], policy, task))
            start = end
        return ranked


def calibration_shift(card: dict[str, Any], task: str | None) -> float:
    """The logit shift a realism head's card records for a task (see `calibration.py`); 0 if none."""
    entry = (card.get("calibration") or {}).get(task or "", {})
    return float(entry.get("shift", 0.0)) if isinstance(entry, dict) else 0.0


# Settings that change no draft's distribution: how many drafts a job gets, and the length cap (a draft
# that ends before it, as the bundled writer's drafts do below caps set above real texts' 99th
# percentile, is the same draft under any cap).
NOT_SAMPLING = ("candidates", "max_new_tokens")


def sampling_mismatch(trained_on: dict[str, Any] | None, live: LiveSampling) -> list[str]:
    """Human-readable differences between the settings a discriminator's fakes were drawn with and the live ones."""
    if not trained_on:
        return ["the discriminator's card does not say which sampling settings its fakes used"]
    problems = []
    defaults = SamplingSettings().to_dict()  # a card older than a setting was sampled with its default
    for task, settings in live.to_dict().items():
        seen = {**defaults, **trained_on.get(task, {})}
        for name, value in settings.items():
            if name not in NOT_SAMPLING and seen.get(name) != value:
                problems.append(f"{task}.{name}: trained on {seen.get(name)!r}, live {value!r}")
    return problems
