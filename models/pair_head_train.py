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
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from models.encoder import SentenceEncoder
from models.metrics import roc_auc
from models.pair_head import HeadConfig, PairHead, PairScorer

log = logging.getLogger(__name__)


@dataclass
class PairExamples:
    prompts: list[str]
    texts: list[str]
    targets: list[float]
    groups: list[str]  # examples of one prompt share a group and land on the same side of the split
    weights: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.weights:
            self.weights = [1.0] * len(self.targets)
        if not len(self.prompts) == len(self.texts) == len(self.targets) == len(self.groups) == len(self.weights):
            raise ValueError("prompts, texts, targets, groups and weights must have the same length")

    def __len__(self) -> int:
        return len(self.targets)

    def __add__(self, other: PairExamples) -> PairExamples:
        return PairExamples(self.prompts + other.prompts, self.texts + other.texts, self.targets + other.targets,
                            self.groups + other.groups, self.weights + other.weights)

    def subset(self, index: list[int]) -> PairExamples:
        return PairExamples([self.prompts[i] for i in index], [self.texts[i] for i in index],
                            [self.targets[i] for i in index], [self.groups[i] for i in index],
                            [self.weights[i] for i in index])


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


def split_by_group(examples: PairExamples, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    groups = sorted(set(examples.groups))
    random.Random(seed).shuffle(groups)
    held = set(groups[: max(1, round(len(groups) * fraction))])
    train = [i for i, g in enumerate(examples.groups) if g not in held]
    return train, [i for i, g in enumerate(examples.groups) if g in held]


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


def train_head(encoder: SentenceEncoder, head_config: HeadConfig, examples: PairExamples, config: HeadTrainConfig,
               progress: bool = True) -> tuple[PairScorer, dict[str, Any]]:
    """Fit a head (and, with `finetune`, the encoder) and return the best epoch's scorer and metrics."""
    torch.manual_seed(config.seed)
    train_idx, val_idx = split_by_group(examples, config.validation_fraction, config.seed)
    train, val = examples.subset(train_idx), examples.subset(val_idx)
    head = PairHead(head_config).to(encoder.device)
    scorer = PairScorer(encoder, head)
    params: list[dict[str, Any]] = [{"params": head.parameters(), "lr": config.lr}]
    if config.finetune:
        params.append({"params": encoder.model.parameters(), "lr": config.encoder_lr})
        features = None
    else:
        # Frozen: the encoder's output never changes, so compute it once for all epochs.
        features = scorer.features(examples.prompts, examples.texts)
    optimizer = torch.optim.AdamW(params, weight_decay=config.weight_decay)
    targets = torch.tensor(examples.targets, device=encoder.device)
    weights = torch.tensor(examples.weights, device=encoder.device)
    best: dict[str, Any] = {"loss": math.inf}
    history, stale, started = [], 0, time.perf_counter()
    bar = tqdm(range(1, config.epochs + 1), desc=f"train {head_config.task}", unit="epoch", disable=not progress)
    for epoch in bar:
        head.train()
        encoder.model.train(config.finetune)
        for batch in _Batches(len(train), config.batch_size, config.seed + epoch):
            index = [train_idx[i] for i in batch]
            if features is not None:
                x = features[index].to(encoder.device)
            else:
                x = encoder.pair_states(encoder.tokenize_pairs(
                    [examples.prompts[i] for i in index], [examples.texts[i] for i in index],
                    head_config.max_length), head_config.layers)
            loss = (F.binary_cross_entropy_with_logits(head(x), targets[index], reduction="none")
                    * weights[index]).sum() / weights[index].sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        head.eval()
        encoder.model.eval()
        val_logits = (scorer.logits_from_features(features[val_idx]) if features is not None
                      else scorer.logits(val.prompts, val.texts))
        metrics = _metrics(val_logits, val)
        history.append({"epoch": epoch, **metrics})
        bar.set_postfix({k: f"{v:.3f}" for k, v in metrics.items()})
        if metrics["loss"] < best["loss"] - 1e-4:
            best, stale = {**metrics, "epoch": epoch}, 0
            best_state = copy.deepcopy((head.state_dict(), encoder.model.state_dict() if config.finetune else None))
        else:
            stale += 1
            if stale >= config.patience:
                break
    head.load_state_dict(best_state[0])
    if best_state[1] is not None:
        encoder.model.load_state_dict(best_state[1])
        # The encoder is now a model of its own: record the fingerprint of the weights that ship.
        head.config = scorer.config = replace(head_config, encoder_fingerprint=encoder.fingerprint())
    head.eval()
    encoder.model.eval()
    report = {
        "train_examples": len(train), "validation_examples": len(val), "best_epoch": best["epoch"],
        "validation": {k: v for k, v in best.items() if k != "epoch"}, "history": history,
        "wall_time_s": round(time.perf_counter() - started, 1), "train_config": asdict(config),
    }
    log.info("%s head: best epoch %d, validation %s", head_config.task, best["epoch"], report["validation"])
    return scorer, report
