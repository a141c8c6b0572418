from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from models.writer import LiveSampling, Writer
from models.writer_train import TextTrainConfig, _schedule, pack


def test_a_short_run_improves_the_validation_loss(tiny_writer_dir: Path) -> None:
    card = json.loads((tiny_writer_dir / "card.json").read_text())
    first, last = card["metrics"]["history"][0], card["metrics"]["history"][-1]
    assert last["validation_loss"] < first["validation_loss"]
    assert card["best_epoch"] == 2 and card["steps"] > 0
    assert card["sampling"] == LiveSampling.for_context(192).to_dict()
    assert card["sampling"]["cv"]["max_new_tokens"] == 160 and card["sampling"]["reply"]["temperature"] == 0.7
    assert card["sha256"]["model.safetensors"]
    assert {"model.safetensors", "config.json", "tokenizer.json", "card.json"} <= {
        p.name for p in tiny_writer_dir.iterdir()}


def test_the_trained_writer_loads_with_its_control_tokens(tiny_writer_dir: Path) -> None:
    writer = Writer.load(tiny_writer_dir, "cpu")
    ids = writer.tokenizer("<|request|> Help<|reply|>")["input_ids"]
    assert writer.tokenizer.convert_ids_to_tokens(ids)[0] == "<|request|>"
    assert writer.context == 192
    assert not writer.model.training


def test_packing_fills_blocks_and_shuffles_documents() -> None:
    docs = [[1] * 5, [2] * 5, [3] * 5, [4] * 5]
    blocks = pack(docs, 4)
    assert blocks.shape == (5, 4) and blocks[0].tolist() == [1, 1, 1, 1]
    import random

    shuffled = pack(docs, 4, random.Random(1))
    assert sorted(shuffled.flatten().tolist()) == sorted(blocks.flatten().tolist())
    with pytest.raises(ValueError, match="do not fill"):
        pack([[1, 2]], 4)


def test_learning_rate_warms_up_then_decays() -> None:
    rates = [_schedule(s, total=100, warmup=10) for s in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert rates[99] == pytest.approx(0.1, abs=0.01)
    assert all(a >= b for a, b in zip(rates[10:], rates[11:], strict=False))


def test_early_stopping_keeps_the_best_epoch(tmp_path: Path, mini_corpus: Path, tiny_writer_dir: Path) -> None:
    """With a learning rate too small to move the loss, training stops after `patience` flat epochs."""
    from models.writer_train import train_text

    writer = Writer.load(tiny_writer_dir, "cpu")
    config = TextTrainConfig(epochs=5, batch_size=8, lr=1e-9, warmup_steps=1, patience=1, device="cpu")
    card = train_text(mini_corpus, tmp_path, writer.model, writer.tokenizer, config, {}, progress=False)
    assert card["epochs_run"] == 2  # epoch 2 was worse, patience 1: stop
    assert card["best_epoch"] == 1
    assert torch.isfinite(torch.tensor(card["metrics"]["validation_loss"]))
