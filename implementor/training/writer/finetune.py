"""Fine-tuning a pretrained base into the writer with LoRA: step-based, resumable, bf16 where the CPU has it.

The base (SmolLM2-135M-Instruct offline, `gpt2` on a host with the hub) stays frozen; LoRA matrices
on its projections learn our corpus in the base's own instruction format (`prompts.InstructFormat`),
so no token is added and only the adapter ships (`adapter.py`).

Documents are packed into blocks, GPT-2 style; block order is fixed by (seed, pass), so a run
resumed from step s sees exactly the blocks it would have seen. Every `eval_every` steps the
validation loss is measured and the adapter, the optimiser and the step are saved
(`training_state.safetensors` beside the checkpoint): `--resume` continues from there, and an
interrupted run loses at most `eval_every` steps. On a CPU with AMX or AVX-512 bf16, matmuls run in
bf16 autocast (measured: about twice as fast as float32 for a LoRA step); the adapter stays float32.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from implementor.contracts.errors import CheckpointError, InputError
from implementor.models.common.checkpoint import (
    CARD_FILE,
    environment,
    load_tensors,
    optimizer_from_tensors,
    optimizer_to_tensors,
    read_json,
    read_metadata,
    save_tensors,
    sha256_file,
)
from implementor.models.common.devices import bf16_autocast_pays, resolve_device
from implementor.models.writer.adapter import save_adapter
from implementor.models.writer.base import BaseRef, load_base, parse_base, pin
from implementor.models.writer.lora import LoRAConfig, adapter_state, inject, load_adapter_state, targets_for
from implementor.models.writer.model import LiveSampling
from implementor.models.writer.prompts import InstructFormat, format_prompt, format_training_text
from implementor.models.writer.trades import TRADES_FILE, TradeBook
from implementor.training.corpus.splits import BUNDLED_CORPUS, load_split
from implementor.training.writer.train import IGNORED, mean_loss, pack_labelled, write_titles

log = logging.getLogger(__name__)

STATE_FILE = "training_state.safetensors"
LOSS_ON = ("completion", "all")
Docs = tuple[list[list[int]], list[int]]  # each document's token ids, and how many of them are its prompt


@dataclass(frozen=True)
class FineTuneConfig:
    steps: int = 400
    batch_size: int = 8
    block_size: int = 256  # a reply and its request fit; a CV (about 300 tokens) spans two blocks
    lr: float = 3e-4  # LoRA's usual rate; the base's own weights never move
    warmup_steps: int = 20
    grad_clip: float = 1.0
    eval_every: int = 25
    eval_blocks: int = 48
    seed: int = 0
    device: str = "auto"
    bf16: bool | None = None  # None: where it pays (AMX / AVX-512 bf16 CPUs, CUDA GPUs with bf16)
    loss_on: str = "completion"  # what is learned: "completion" (the CV or reply) or "all" (its prompt too)


@dataclass(frozen=True)
class FineTuneSpec:
    out: Path
    base: str = "smollm2"
    corpus: Path = BUNDLED_CORPUS
    lora_r: int = 16
    lora_layers: int | None = None  # adapt the top N layers only; None: every layer
    train: FineTuneConfig = FineTuneConfig()
    resume: bool = False
    command: str = ""
    init: Path | None = None  # an adapter checkpoint to go on from (its base, LoRA settings and weights)
    ungrounded_share: float = 0.15  # CVs trained without their trade's facts, for titles the book lacks


class _Batches:
    """The batch for any step, as (token ids, labels): passes over the packed documents, each pass
    shuffled by (seed, pass)."""

    def __init__(self, docs: Docs, block: int, seed: int, batch: int) -> None:
        self.docs, self.block, self.seed, self.batch = docs, block, seed, batch
        self._pass, self._blocks = 0, _learnable(pack_labelled(*docs, block, random.Random(seed)))
        self.per_pass = len(self._blocks[0]) // batch
        if self.per_pass == 0:
            raise InputError(f"the corpus fills {len(self._blocks[0])} blocks, fewer than one batch of {batch}")

    def __call__(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        index, within = divmod(step, self.per_pass)
        if index != self._pass:
            self._pass, self._blocks = index, _learnable(pack_labelled(*self.docs, self.block,
                                                                       random.Random(self.seed + index)))
        rows = slice(within * self.batch, (within + 1) * self.batch)
        return self._blocks[0][rows], self._blocks[1][rows]


def _learnable(blocks: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """The blocks with something to learn: one that holds only prompt tokens would make a step of nothing."""
    ids, labels = blocks
    kept = (labels[:, 1:] != IGNORED).any(dim=1)
    return ids[kept], labels[kept]


def _lr(step: int, config: FineTuneConfig) -> float:
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _save_state(out: Path, model: Any, optimizer: torch.optim.Optimizer, step: int, history: list[Any],
                wall: float) -> None:
    tensors = {f"adapter.{k}": v for k, v in adapter_state(model).items()}
    tensors["rng.torch"] = torch.get_rng_state()  # LoRA's dropout draws from it
    opt, groups = optimizer_to_tensors("optimizer", optimizer)
    meta = {"step": step, "history": history, "wall_time_s": wall, "groups": groups}
    save_tensors(out / STATE_FILE, tensors | opt, {"trainer": json.dumps(meta)})


def _load_state(out: Path, model: Any, optimizer: torch.optim.Optimizer) -> tuple[int, list[Any], float]:
    path = out / STATE_FILE
    if not path.exists():
        raise CheckpointError(f"{out} has no {STATE_FILE}: nothing to resume (train without --resume)")
    tensors = load_tensors(path)
    meta = json.loads(read_metadata(path).get("trainer", "{}"))
    load_adapter_state(model, {k.removeprefix("adapter."): v for k, v in tensors.items() if k.startswith("adapter.")})
    optimizer_from_tensors(optimizer, "optimizer", tensors, meta["groups"])
    torch.set_rng_state(tensors["rng.torch"])
    return int(meta["step"]), list(meta["history"]), float(meta["wall_time_s"])


def _start(spec: FineTuneSpec) -> tuple[FineTuneSpec, BaseRef, dict[str, Any]]:
    """The spec to run (a resumed run's own settings), its pinned base, and the card so far."""
    if not spec.resume and spec.init is not None:
        from implementor.models.writer.adapter import adapter_card

        init = adapter_card(spec.init)
        lora = LoRAConfig.from_dict(init["lora"])
        card = {"model": "writer-lora", "command": spec.command, "base": init["base"], "sampling": init.get("sampling"),
                "init": {"adapter": str(spec.init), "sha256": init.get("sha256", {})}}
        return replace(spec, lora_r=lora.r, lora_layers=lora.layers), BaseRef.from_dict(init["base"]), card
    if not spec.resume:
        ref = pin(parse_base(spec.base))
        return spec, ref, {"model": "writer-lora", "command": spec.command, "base": ref.to_dict()}
    card = read_json(spec.out / CARD_FILE, "model card")
    recorded = {"loss_on": "all", **card["train_config"]}  # a run from before `loss_on` learned its prompts too
    config = replace(FineTuneConfig(**recorded), steps=max(spec.train.steps, recorded["steps"]),
                     device=spec.train.device)
    lora = LoRAConfig.from_dict(card["lora"])
    resumed = replace(spec, corpus=Path(card["data"]["corpus"]), lora_r=lora.r, lora_layers=lora.layers, train=config)
    card["resumed"] = [*card.get("resumed", []), {"command": spec.command}]
    return resumed, BaseRef.from_dict(card["base"]), card


def _step(model: Any, optimizer: torch.optim.Optimizer, batch: tuple[torch.Tensor, torch.Tensor],
          config: FineTuneConfig, step: int, bf16: bool) -> float:
    """One optimiser step on a batch of packed blocks (token ids, labels); returns its loss."""
    model.train()
    for group in optimizer.param_groups:
        group["lr"] = config.lr * _lr(step, config)
    ids, labels = batch
    with torch.autocast(ids.device.type, dtype=torch.bfloat16, enabled=bf16):
        loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], config.grad_clip)
    optimizer.step()
    return float(loss.item())


def _save(out: Path, model: Any, optimizer: torch.optim.Optimizer, card: dict[str, Any],
          val: tuple[torch.Tensor, torch.Tensor],
          config: FineTuneConfig, step: int, loss: float, history: list[Any], wall: float, bf16: bool
          ) -> dict[str, Any]:
    """Validate, then save the adapter (the checkpoint as it stands) and the state `--resume` needs."""
    device = next(model.parameters()).device
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        val_loss = mean_loss(model, val[0], config.batch_size, device, labels=val[1])
    history.append({"step": step, "train_loss": round(loss, 4), "validation_loss": round(val_loss, 4),
                    "wall_time_s": round(wall, 1)})
    log.info("step %d/%d: validation loss %.4f (%.1f s a step)", step, config.steps, val_loss, wall / step)
    card = save_adapter(model, out, {**card, "steps": step, "wall_time_s": round(wall, 1),
                                     "tokens_seen": step * config.batch_size * config.block_size,
                                     "metrics": {"validation_loss": round(val_loss, 4),
                                                 "validation_perplexity": round(math.exp(val_loss), 3),
                                                 "history": history}})
    _save_state(out, model, optimizer, step, history, wall)
    return card


def _corpus(spec: FineTuneSpec, tokenizer: Any) -> tuple[Docs, tuple[torch.Tensor, torch.Tensor], dict[str, Any]]:
    """Training documents, validation blocks and their labels, and the card's entry for the trade book.

    With `loss_on="completion"` a document's prompt is read but not learned, so each step's gradient
    is the CVs and replies the writer writes, not the trade facts and colleague CVs it is given.

    A corpus with a trade book (`trades.json.gz`) trains CV prompts that carry their trade's facts,
    except a share (`ungrounded_share`, drawn by seed) prompted without, so the writer also serves
    titles the book lacks; the book is copied into the checkpoint, which serves with it.
    """
    # The corpus's book; else (drafts of an adversarial round, a resumed run) the one it goes on with.
    places = [spec.corpus, *([spec.init] if spec.init is not None else []), spec.out]
    book_path = next((p / TRADES_FILE for p in places if (p / TRADES_FILE).is_file()), spec.corpus / TRADES_FILE)
    trades = TradeBook.load(book_path) if book_path.is_file() else None
    grounded, plain = InstructFormat(tokenizer, trades), InstructFormat(tokenizer)
    rng = random.Random(spec.train.seed)

    def tokens(records: list[Any]) -> Docs:
        docs, context = [], []
        for record in records:
            fmt = plain if rng.random() < spec.ungrounded_share else grounded
            docs.append(list(tokenizer(format_training_text(fmt, record))["input_ids"]))
            context.append(len(tokenizer(format_prompt(fmt, record))["input_ids"])
                           if spec.train.loss_on == "completion" else 0)
        return docs, context

    train_records = load_split(spec.corpus, "train")
    write_titles(spec.out, train_records)
    docs = tokens(train_records)
    val_ids, val_labels = _learnable(pack_labelled(*tokens(load_split(spec.corpus, "validation")),
                                                   spec.train.block_size))
    val = val_ids[: spec.train.eval_blocks], val_labels[: spec.train.eval_blocks]
    if trades is None:
        return docs, val, {}
    if book_path.resolve() != (spec.out / TRADES_FILE).resolve():
        shutil.copyfile(book_path, spec.out / TRADES_FILE)
    return docs, val, {"trades": {"file": TRADES_FILE, "sha256": sha256_file(spec.out / TRADES_FILE),
                                  "entries": len(trades), "ungrounded_share": spec.ungrounded_share}}


def finetune(spec: FineTuneSpec, progress: bool = True) -> dict[str, Any]:
    """Fine-tune the base a spec names on its corpus; the adapter checkpoint is saved as it goes."""
    spec, ref, card = _start(spec)
    config = spec.train
    if config.steps < 1 or config.batch_size < 1 or config.eval_every < 1:
        raise InputError("--steps, --batch-size and --eval-every must be positive")
    if config.loss_on not in LOSS_ON:
        raise InputError(f"--loss-on is {config.loss_on!r}; choose completion or all")
    torch.manual_seed(config.seed)
    device = resolve_device(config.device)
    model, tokenizer = load_base(ref)
    lora = LoRAConfig(r=spec.lora_r, alpha=2.0 * spec.lora_r, targets=targets_for(model), layers=spec.lora_layers)
    trainable = inject(model, lora)
    if spec.init is not None and not spec.resume:
        from implementor.models.writer.adapter import ADAPTER_FILE

        load_adapter_state(model, load_tensors(spec.init / ADAPTER_FILE))
    model.to(device)
    docs, val, trades = _corpus(spec, tokenizer)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr,
                                  weight_decay=0.0)
    step, history, wall = _load_state(spec.out, model, optimizer) if spec.resume else (0, [], 0.0)
    bf16 = bf16_autocast_pays(device) if config.bf16 is None else config.bf16
    card = {**card, "parameters": {"base": sum(p.numel() for p in model.parameters()) - trainable,
                                   "trainable": trainable},
            "lora": lora.to_dict(), "prompt_format": InstructFormat.name, "bf16": bf16, **trades,
            "data": {"corpus": str(spec.corpus), "train_documents": len(docs[0]),
                     "train_tokens": sum(map(len, docs[0])),
                     "learned_tokens": sum(len(d) - c for d, c in zip(*docs, strict=True))},
            "train_config": asdict(config), "environment": environment(),
            "sampling": card.get("sampling") or LiveSampling().to_dict()}
    if step:
        log.info("resuming %s at step %d of %d", spec.out, step, config.steps)
    batches = _Batches(docs, config.block_size, config.seed, config.batch_size)
    started = time.perf_counter() - wall
    bar = tqdm(total=config.steps, initial=step, desc="fine-tune writer", unit="step", disable=not progress,
               dynamic_ncols=True)
    while step < config.steps:
        ids, labels = batches(step)
        loss = _step(model, optimizer, (ids.to(device), labels.to(device)), config, step, bf16)
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")
        if step % config.eval_every == 0 or step == config.steps:
            card = _save(spec.out, model, optimizer, card, val, config, step, loss, history,
                         time.perf_counter() - started, bf16)
    bar.close()
    return card
