from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from implementor.models.writer.model import LiveSampling, Writer
from implementor.training.writer.train import IGNORED, TextTrainConfig, _schedule, pack, pack_labelled


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


def test_packed_labels_skip_each_documents_prompt_wherever_the_shuffle_puts_it() -> None:
    import random

    docs = [[10, 11, 12, 13, 14], [20, 21, 22], [30, 31, 32, 33]]
    ids, labels = pack_labelled(docs, [2, 1, 3], 4, random.Random(3))
    assert ids.shape == labels.shape == (3, 4)
    learned = [t for t, label in zip(ids.flatten().tolist(), labels.flatten().tolist(), strict=True)
               if label != IGNORED]
    assert sorted(learned) == [12, 13, 14, 21, 22, 33]  # every document's own tokens past its prompt
    assert all(label in (IGNORED, t) for t, label in zip(ids.flatten().tolist(), labels.flatten().tolist(),
                                                           strict=True))
    assert torch.equal(pack(docs, 4, random.Random(3)), ids)  # the same blocks as without labels


def test_learning_rate_warms_up_then_decays() -> None:
    rates = [_schedule(s, total=100, warmup=10) for s in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert rates[99] == pytest.approx(0.1, abs=0.01)
    assert all(a >= b for a, b in zip(rates[10:], rates[11:], strict=False))


def test_early_stopping_keeps_the_best_epoch(tmp_path: Path, mini_corpus: Path, tiny_writer_dir: Path) -> None:
    """With a learning rate too small to move the loss, training stops after `patience` flat epochs."""
    from implementor.training.writer.train import train_text

    writer = Writer.load(tiny_writer_dir, "cpu")
    config = TextTrainConfig(epochs=5, batch_size=8, lr=1e-9, warmup_steps=1, patience=1, device="cpu")
    card = train_text(mini_corpus, tmp_path, writer.model, writer.tokenizer, config, {}, progress=False)
    assert card["epochs_run"] == 2  # epoch 2 was worse, patience 1: stop
    assert card["best_epoch"] == 1
    assert torch.isfinite(torch.tensor(card["metrics"]["validation_loss"]))


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path: Path, mini_corpus: Path, tiny_writer_dir: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Three epochs in one go, and two epochs, a crash, then --resume, end on the same weights."""
    from implementor.models.common.checkpoint import load_tensors
    from implementor.training.writer import train as writer_train
    from implementor.training.writer.train_state import STATE_FILE

    config = TextTrainConfig(epochs=3, batch_size=8, lr=1e-3, warmup_steps=2, patience=3, device="cpu")

    def run(out: Path, resume: bool = False) -> dict:
        writer = Writer.load(out if resume else tiny_writer_dir, "cpu")
        return writer_train.train_text(mini_corpus, out, writer.model, writer.tokenizer, config,
                                       {"command": "test"}, progress=False, resume=resume)

    straight = tmp_path / "straight"
    run(straight)
    interrupted = tmp_path / "interrupted"
    real_save, saves = writer_train.save_state, []

    def crash_after_two(*args, **kwargs):  # type: ignore[no-untyped-def]
        real_save(*args, **kwargs)
        saves.append(1)
        if len(saves) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(writer_train, "save_state", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        run(interrupted)
    monkeypatch.setattr(writer_train, "save_state", real_save)
    card = run(interrupted, resume=True)
    assert card["epochs_run"] == 3 and card["resumed"][0]["epoch"] == 2
    a = load_tensors(straight / STATE_FILE)
    b = load_tensors(interrupted / STATE_FILE)
    weights = [k for k in a if k.startswith("model.")]
    assert weights and all(torch.allclose(a[k], b[k], atol=1e-6) for k in weights)


def test_resume_without_a_saved_run_says_so(tmp_path: Path, mini_corpus: Path, tiny_writer_dir: Path) -> None:
    from implementor.contracts.errors import CheckpointError
    from implementor.training.writer.train import train_text

    writer = Writer.load(tiny_writer_dir, "cpu")
    with pytest.raises(CheckpointError, match="nothing to resume"):
        train_text(mini_corpus, tmp_path, writer.model, writer.tokenizer, TextTrainConfig(device="cpu"), {},
                   progress=False, resume=True)
