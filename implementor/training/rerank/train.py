"""Training a pair-scoring head: binary cross-entropy on (prompt, text, target in [0, 1]) examples.

Targets are 1/0 for the realism discriminator (real/generated) and for the bootstrapped quality
model (this reply answers this request / it does not), and ratings scaled to [0, 1] for quality
feedback. Examples are split into training and validation by prompt, so validation prompts are
unseen; the epoch with the lowest validation loss is kept, and training stops when `patience`
epochs bring nothing better.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from implementor.models.common.encoder import SentenceEncoder
from implementor.models.rerank.head import HeadConfig, PairHead, PairScorer
from implementor.training.metrics import roc_auc
from implementor.training.rerank.examples import PairExamples, split_by_group

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeadTrainConfig:
    epochs: int = 80  # with a frozen encoder an epoch is a few milliseconds of MLP
    batch_size: int = 64
    lr: float = 1e-3
    encoder_lr: float = 2e-5  # only when fine-tuning: BERT's usual rate
    weight_decay: float = 0.01
    patience: int = 10
    validation_fraction: float = 0.15
    finetune: bool = False
    seed: int = 0
    device: str = "auto"


def _metrics(logits: torch.Tensor, examples: PairExamples) -> dict[str, float]:
    targets, weights = torch.tensor(examples.targets), torch.tensor(examples.weights)
    losses = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    loss = float((losses * weights).sum() / weights.sum())
    out = {"loss": round(loss, 4)}
    binary = [t in (0.0, 1.0) for t in examples.targets]
    if all(binary) and 0 < sum(examples.targets) < len(examples):
        out["auc"] = round(roc_auc(logits, [int(t) for t in examples.targets]), 4)
    return out


class _Batches:
    """Shuffled mini-batches of example indices, reproducible from a seed."""

    def __init__(self, n: int, size: int, seed: int) -> None:
        self.n, self.size, self.rng = n, size, random.Random(seed)

    def __iter__(self) -> Iterator[list[int]]:
        order = list(range(self.n))
        self.rng.shuffle(order)
        return (order[i : i + self.size] for i in range(0, self.n, self.size))


class _HeadFit:
    """One head being fitted: its optimiser, the examples' targets and (frozen encoder) their features."""

    def __init__(self, encoder: SentenceEncoder, head_config: HeadConfig, examples: PairExamples,
                 config: HeadTrainConfig) -> None:
        self.encoder, self.examples, self.config = encoder, examples, config
        self.head = PairHead(head_config).to(encoder.device)
        self.scorer = PairScorer(encoder, self.head)
        params: list[dict[str, Any]] = [{"params": self.head.parameters(), "lr": config.lr}]
        self.features: torch.Tensor | None = None
        if config.finetune:
            params.append({"params": encoder.model.parameters(), "lr": config.encoder_lr})
        else:  # frozen: the encoder's output never changes, so compute it once for all epochs
            self.features = self.scorer.features(examples.prompts, examples.texts)
        self.optimizer = torch.optim.AdamW(params, weight_decay=config.weight_decay)
        self.targets = torch.tensor(examples.targets, device=encoder.device)
        self.weights = torch.tensor(examples.weights, device=encoder.device)

    def inputs(self, index: list[int]) -> torch.Tensor:
        if self.features is not None:
            return self.features[index].to(self.encoder.device)
        hc = self.head.config
        batch = self.encoder.tokenize_pairs([self.examples.prompts[i] for i in index],
                                            [self.examples.texts[i] for i in index], hc.max_length)
        return self.encoder.pair_states(batch, hc.layers)

    def epoch(self, train_idx: list[int], seed: int) -> None:
        self.head.train()
        self.encoder.model.train(self.config.finetune)
        for batch in _Batches(len(train_idx), self.config.batch_size, seed):
            index = [train_idx[i] for i in batch]
            w = self.weights[index]
            losses = F.binary_cross_entropy_with_logits(self.head(self.inputs(index)), self.targets[index],
                                                        reduction="none")
            loss = (losses * w).sum() / w.sum()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        self.head.eval()
        self.encoder.model.eval()

    def validate(self, val_idx: list[int]) -> dict[str, float]:
        val = self.examples.subset(val_idx)
        logits = (self.scorer.logits_from_features(self.features[val_idx]) if self.features is not None
                  else self.scorer.logits(val.prompts, val.texts))
        return _metrics(logits, val)

    def snapshot(self) -> Any:
        return copy.deepcopy((self.head.state_dict(), self.encoder.model.state_dict() if self.config.finetune
                              else None))

    def restore(self, state: Any) -> None:
        self.head.load_state_dict(state[0])
        if state[1] is not None:
            self.encoder.model.load_state_dict(state[1])
            # The encoder is now a model of its own: record the fingerprint of the weights that ship.
            self.head.config = self.scorer.config = replace(self.head.config,
                                                            encoder_fingerprint=self.encoder.fingerprint())


def train_head(encoder: SentenceEncoder, head_config: HeadConfig, examples: PairExamples, config: HeadTrainConfig,
               progress: bool = True) -> tuple[PairScorer, dict[str, Any]]:
    """Fit a head (and, with `finetune`, the encoder) and return the best epoch's scorer and metrics."""
    torch.manual_seed(config.seed)
    train_idx, val_idx = split_by_group(examples, config.validation_fraction, config.seed)
    fit = _HeadFit(encoder, head_config, examples, config)
    best: dict[str, Any] = {"loss": math.inf}
    history, stale, started, best_state = [], 0, time.perf_counter(), None
    bar = tqdm(range(1, config.epochs + 1), desc=f"train {head_config.task}", unit="epoch", disable=not progress)
    for epoch in bar:
        fit.epoch(train_idx, config.seed + epoch)
        metrics = fit.validate(val_idx)
        history.append({"epoch": epoch, **metrics})
        bar.set_postfix({k: f"{v:.3f}" for k, v in metrics.items()})
        if metrics["loss"] < best["loss"] - 1e-4:
            best, stale, best_state = {**metrics, "epoch": epoch}, 0, fit.snapshot()
        else:
            stale += 1
            if stale >= config.patience:
                break
    fit.restore(best_state)
    report = {
        "train_examples": len(train_idx), "validation_examples": len(val_idx), "best_epoch": best["epoch"],
        "validation": {k: v for k, v in best.items() if k != "epoch"}, "history": history,
        "wall_time_s": round(time.perf_counter() - started, 1), "train_config": asdict(config),
    }
    log.info("%s head: best epoch %d, validation %s", head_config.task, best["epoch"], report["validation"])
    return fit.scorer, report


def head_config(task: str, encoder: SentenceEncoder, finetune: bool) -> HeadConfig:
    """A head reading a third, two thirds and all of the encoder's layers."""
    layers = tuple(sorted({max(1, encoder.layers // 3), max(1, 2 * encoder.layers // 3), encoder.layers}))
    return HeadConfig(task=task, encoder=encoder.name, encoder_fingerprint=encoder.fingerprint(),  # type: ignore[arg-type]
                      encoder_width=encoder.width, finetuned_encoder=finetune, layers=layers)


def fit_head(task: str, encoder: SentenceEncoder, prior: PairExamples, config: HeadTrainConfig,
             taught: PairExamples | None = None, prior_weight: float = 1.0, progress: bool = True
             ) -> tuple[PairScorer, dict[str, Any]]:
    """A head for `task` trained on `prior` (examples made from the corpus), each weighing `prior_weight`, and
    on `taught` (members' ratings, a server's own texts) at their own weights: what `train realism`,
    `train quality`, the adversarial rounds and the learner's retraining all fit."""
    if prior_weight != 1.0:
        prior = PairExamples(prior.prompts, prior.texts, prior.targets, prior.groups, [prior_weight] * len(prior))
    examples = prior + taught if taught is not None else prior
    return train_head(encoder, head_config(task, encoder, config.finetune), examples, config, progress=progress)
