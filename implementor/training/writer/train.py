"""Training the writer: next-token prediction on packed corpus text, with early stopping.

Documents (CVs and request/reply pairs, each ending in <|endoftext|>) are shuffled every epoch and
packed into blocks of the model's context length, GPT-2 style, so no compute goes to padding.
AdamW with a linear warm-up and a cosine decay; validation loss and perplexity after every epoch;
the best epoch is saved, and training stops when `patience` epochs in a row bring no improvement.
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from implementor.contracts.errors import InputError
from implementor.contracts.records import CVRecord, Record
from implementor.models.common.checkpoint import (
    CARD_FILE,
    WEIGHTS_FILE,
    environment,
    read_json,
    sha256_file,
    write_json,
)
from implementor.models.common.devices import resolve_device
from implementor.models.writer.model import TITLES_FILE, LiveSampling
from implementor.models.writer.prompts import ControlFormat, PromptFormat, format_training_text, training_text
from implementor.training.corpus.splits import BUNDLED_CORPUS, load_split
from implementor.training.writer.scratch import SIZES, load_pretrained, new_model, train_tokenizer
from implementor.training.writer.train_state import TrainRun, load_state, save_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextTrainConfig:
    epochs: int = 8
    batch_size: int = 8
    block_size: int | None = None  # None: the model's context length
    lr: float = 1e-3  # from scratch; fine-tuning a pretrained GPT-2 wants about 5e-5
    warmup_steps: int = 200
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    patience: int = 2
    seed: int = 0
    device: str = "auto"

IGNORED = -100  # the label of a token that is read but not learned (the loss skips it)


def encode(records: list[Record], tokenizer: Any, fmt: PromptFormat | None = None) -> list[list[int]]:
    """Token ids of every record's whole example, in the writer's prompt format (control tokens by default)."""
    fmt = fmt or ControlFormat()
    return [tokenizer(format_training_text(fmt, r))["input_ids"] for r in records]


def pack(docs: list[list[int]], block_size: int, rng: random.Random | None = None) -> torch.Tensor:
    """Concatenate documents (shuffled if an rng is given) and cut them into (N, block_size) blocks."""
    return pack_labelled(docs, [0] * len(docs), block_size, rng)[0]


def pack_labelled(docs: list[list[int]], context: list[int], block_size: int, rng: random.Random | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """As `pack`, with the labels to learn: the first `context[i]` tokens of document i (its prompt) are
    read but not learned (label -100, which the loss ignores); the rest are their own labels."""
    order = list(range(len(docs)))
    if rng is not None:
        rng.shuffle(order)
    stream = [token for i in order for token in docs[i]]
    labels = [IGNORED if j < context[i] else token for i in order for j, token in enumerate(docs[i])]
    n = len(stream) // block_size
    if n == 0:
        raise ValueError(f"{len(stream)} tokens do not fill one block of {block_size}")
    return (torch.tensor(stream[: n * block_size]).view(n, block_size),
            torch.tensor(labels[: n * block_size]).view(n, block_size))


@torch.inference_mode()
def mean_loss(model: Any, blocks: torch.Tensor, batch_size: int, device: torch.device,
              labels: torch.Tensor | None = None) -> float:
    """Mean next-token cross-entropy (nats per token) over blocks (over the tokens `labels` keeps, if given)."""
    model.eval()
    labels = blocks if labels is None else labels
    total, count = 0.0, 0
    for start in range(0, len(blocks), batch_size):
        batch = blocks[start : start + batch_size].to(device)
        learned = labels[start : start + batch_size].to(device)
        tokens = int((learned[:, 1:] != IGNORED).sum())  # the first token of each block has no prediction
        loss = model(input_ids=batch, attention_mask=torch.ones_like(batch), labels=learned).loss
        total += loss.item() * tokens
        count += tokens
    return total / count


def _schedule(step: int, total: int, warmup: int) -> float:
    """Learning-rate multiplier: linear warm-up, then cosine decay to a tenth."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))


def write_titles(out_dir: Path, records: list[Record]) -> None:
    """The CV titles of the training data, so the writer can hire colleagues it knows how to describe."""
    titles = sorted({r.title for r in records if isinstance(r, CVRecord)})
    write_json(out_dir / TITLES_FILE, titles or ["Consultant"])


def save_writer(model: Any, tokenizer: Any, out_dir: Path, card: dict[str, Any]) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    card = {**card, "sha256": {WEIGHTS_FILE: sha256_file(out_dir / WEIGHTS_FILE)}, "environment": environment()}
    write_json(out_dir / CARD_FILE, card)
    return card




@dataclass(frozen=True)
class WriterTrainSpec:
    """What `implementor train text` asks for: where to start, the corpus and the run's settings."""

    out: Path
    corpus: Path = BUNDLED_CORPUS
    size: str | None = None  # from scratch: a name in SIZES; or
    base: str | None = None  # a GPT-2 to fine-tune (hub name or directory)
    train: TextTrainConfig = TextTrainConfig()
    resume: bool = False  # continue the run in `out` (its card says how it started)
    command: str = ""


def _epoch(model: Any, blocks: torch.Tensor, optimizer: torch.optim.Optimizer, scheduler: Any,
           config: TextTrainConfig, device: torch.device, desc: str, progress: bool) -> int:
    """One pass over the training blocks; returns the number of optimiser steps taken."""
    model.train()
    bar = tqdm(blocks.split(config.batch_size), desc=desc, unit="step", disable=not progress, dynamic_ncols=True)
    steps = 0
    for batch in bar:
        batch = batch.to(device)
        # Packed blocks have no padding; an explicit all-ones mask says so (the end token is also the pad).
        loss = model(input_ids=batch, attention_mask=torch.ones_like(batch), labels=batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        steps += 1
        bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{scheduler.get_last_lr()[0]:.1e}")
    return steps


def _after_epoch(run: TrainRun, val: float, model: Any, tokenizer: Any, out_dir: Path, card: dict[str, Any],
                 patience: int) -> dict[str, Any]:
    """Record an epoch's validation loss; save the checkpoint if it is the best so far."""
    run.history.append({"epoch": run.epoch, "validation_loss": round(val, 4),
                        "validation_perplexity": round(math.exp(val), 3)})
    log.info("epoch %d: validation loss %.4f, perplexity %.2f", run.epoch, val, math.exp(val))
    if val < run.best - 1e-4:
        run.best, run.stale = val, 0
        return save_writer(model, tokenizer, out_dir, {
            **card, "steps": run.step, "epochs_run": run.epoch, "best_epoch": run.epoch,
            "wall_time_s": round(run.wall_time_s, 1),
            "metrics": {"validation_loss": round(run.best, 4), "validation_perplexity": round(math.exp(run.best), 3),
                        "history": run.history},
        })
    run.stale += 1
    if run.stale >= patience:
        log.info("validation loss has not improved for %d epochs; stopping early", run.stale)
    return card


def _data(corpus: Path, tokenizer: Any, out_dir: Path, block: int) -> tuple[list[list[int]], torch.Tensor]:
    """The training documents as token ids, and the validation split packed into blocks."""
    train_records = load_split(corpus, "train")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_titles(out_dir, train_records)
    return encode(train_records, tokenizer), pack(encode(load_split(corpus, "validation"), tokenizer), block)


def train_text(
    corpus: Path,
    out_dir: Path,
    model: Any,
    tokenizer: Any,
    config: TextTrainConfig,
    card: dict[str, Any],
    progress: bool = True,
    resume: bool = False,
) -> dict[str, Any]:
    """Train on `corpus`'s train split, keep the epoch with the best validation loss; return its card.

    After every epoch the run's state is saved beside the checkpoint, so `resume=True` continues an
    interrupted run from its last finished epoch with the same optimiser, schedule and batch order.
    """
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    device = resolve_device(config.device)
    model.to(device)
    block = config.block_size or int(model.config.n_positions)
    train_docs, val_blocks = _data(corpus, tokenizer, out_dir, block)
    steps_per_epoch = sum(map(len, train_docs)) // block // config.batch_size
    total = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=(0.9, 0.95),
                                  weight_decay=config.weight_decay)
    run = load_state(out_dir, model, optimizer, rng) if resume else TrainRun()
    if resume:
        saved = read_json(out_dir / CARD_FILE, "model card")
        card = {**saved, "resumed": [*saved.get("resumed", []), {"command": card.get("command"), "epoch": run.epoch}]}
        log.info("resuming %s after epoch %d (step %d)", out_dir, run.epoch, run.step)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _schedule(s, total, config.warmup_steps),
                                                  last_epoch=run.step - 1)
    card = {**card, "data": {"corpus": str(corpus), "train_documents": len(train_docs),
                             "train_tokens": sum(map(len, train_docs)), "validation_blocks": len(val_blocks)},
            "train_config": asdict(config) | {"block_size": block},
            "sampling": card.get("sampling") or LiveSampling.for_context(int(model.config.n_positions)).to_dict()}
    started = time.perf_counter() - run.wall_time_s
    while run.epoch < config.epochs and run.stale < config.patience:
        run.epoch += 1
        blocks = pack(train_docs, block, rng)[: steps_per_epoch * config.batch_size]
        run.step += _epoch(model, blocks, optimizer, scheduler, config, device,
                           f"train text {run.epoch}/{config.epochs}", progress)
        run.wall_time_s = time.perf_counter() - started
        card = _after_epoch(run, mean_loss(model, val_blocks, config.batch_size, device), model, tokenizer, out_dir,
                            card, config.patience)
        save_state(out_dir, model, optimizer, run, rng)
    card = {**card, "epochs_run": len(run.history), "wall_time_s": round(run.wall_time_s, 1)}
    card.setdefault("metrics", {})["history"] = run.history
    write_json(out_dir / CARD_FILE, card)
    return card


def _start(spec: WriterTrainSpec) -> tuple[Any, Any, dict[str, Any]]:
    """The model and tokenizer a run starts from, and what the card says about that start."""
    if spec.size is not None:
        shape = SIZES[spec.size]
        tokenizer = train_tokenizer([training_text(r) for r in load_split(spec.corpus, "train")], shape.vocab_size)
        return new_model(shape, tokenizer), tokenizer, {"from_scratch": spec.size, "shape": asdict(shape)}
    assert spec.base is not None
    model, tokenizer = load_pretrained(spec.base)
    init: dict[str, Any] = {"base": spec.base}
    base_card = Path(spec.base).expanduser() / CARD_FILE
    if base_card.exists():  # continuing one of ours: keep how the base was made
        earlier = read_json(base_card, "model card")
        init["base_card"] = {k: earlier.get(k) for k in ("command", "init", "steps", "epochs_run", "metrics")}
    return model, tokenizer, init


def run_writer_training(spec: WriterTrainSpec) -> dict[str, Any]:
    """Train the writer a spec describes (from scratch, from a base, or resuming); return its card."""
    if spec.resume:
        card = read_json(spec.out / CARD_FILE, "model card")
        recorded = {k: v for k, v in card.get("train_config", {}).items() if k != "block_size"}
        config = replace(TextTrainConfig(**recorded), epochs=max(spec.train.epochs, recorded.get("epochs", 1)),
                         device=spec.train.device)
        model, tokenizer = load_pretrained(spec.out)  # the architecture; the run's weights come from its state
        corpus = Path(card.get("data", {}).get("corpus", spec.corpus))
        return _with_fast_copy(spec.out, train_text(corpus, spec.out, model, tokenizer, config,
                                                    {"command": spec.command}, resume=True))
    if (spec.size is None) == (spec.base is None):
        raise InputError("choose one: --from-scratch (with --size) or --base NAME_OR_DIR")
    model, tokenizer, init = _start(spec)
    card = {"model": "writer-gpt2", "command": spec.command, "init": init,
            "parameters": sum(p.numel() for p in model.parameters())}
    return _with_fast_copy(spec.out, train_text(spec.corpus, spec.out, model, tokenizer, spec.train, card))


def _with_fast_copy(out: Path, card: dict[str, Any]) -> dict[str, Any]:
    """The best epoch, converted for CTranslate2 too, when it is installed (the card records its sha256)."""
    from implementor.models.writer.ct2_file import ct2_available, export_ctranslate2

    if ct2_available():
        card = {**card, "ctranslate2": export_ctranslate2(out, force=True)}
    return card
