"""The BERT pair-scoring heads on a small locally saved BERT: training, checkpoints, encoder checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from implementor.contracts.errors import CheckpointError
from implementor.models.common.encoder import SentenceEncoder
from implementor.models.rerank.head import ENCODER_DIR, HeadConfig, PairScorer
from implementor.models.writer.model import LiveSampling
from implementor.training.rerank.examples import PairExamples
from implementor.training.rerank.train import HeadTrainConfig, train_head


def test_pair_features_pool_the_chosen_layers(bert: SentenceEncoder) -> None:
    features = bert.pair_features(["a request"] * 3, ["one reply", "another, longer reply", "x"], layers=(1, 2))
    assert features.shape == (3, 2 * bert.width)
    again = bert.pair_features(["a request"], ["another, longer reply"], layers=(1, 2))
    assert torch.allclose(features[1], again[0], atol=1e-5)  # batching and padding change nothing






def test_checkpoints_round_trip_and_refuse_another_encoder(
        bert: SentenceEncoder, head_config: Callable[..., HeadConfig], realism_data: PairExamples,
                                                           tmp_path: Path) -> None:
    scorer, _ = train_head(bert, head_config(bert), realism_data, HeadTrainConfig(epochs=2, device="cpu"),
                           progress=False)
    scorer.save(tmp_path / "head", {"model": "realism-head", "sampling": LiveSampling().to_dict()})
    loaded = PairScorer.load(tmp_path / "head", bert, "realism", "cpu")
    probe = (["Ada, Analyst"], ["## Profile\nI analyse data."])
    assert torch.allclose(loaded.logits(*probe), scorer.logits(*probe))
    with pytest.raises(CheckpointError, match="not a quality head"):
        PairScorer.load(tmp_path / "head", bert, "quality", "cpu")
    minilm = SentenceEncoder.load("all-MiniLM-L6-v2", "cpu")
    with pytest.raises(CheckpointError, match="different model"):
        PairScorer.load(tmp_path / "head", minilm, "realism", "cpu")
    config = json.loads((tmp_path / "head" / "config.json").read_text())
    config["layers"] = [1, 2, 2]
    (tmp_path / "head" / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="does not match the weights"):
        PairScorer.load(tmp_path / "head", bert, "realism", "cpu")


def test_fine_tuning_saves_and_reloads_the_encoder(
        head_config: Callable[..., HeadConfig], tiny_bert_dir: Path, realism_data: PairExamples,
                                                   tmp_path: Path) -> None:
    bert = SentenceEncoder.load(tiny_bert_dir, "cpu")
    before = bert.fingerprint()
    config = head_config(bert, finetune=True)
    scorer, report = train_head(bert, config, realism_data, HeadTrainConfig(epochs=2, finetune=True, lr=1e-3,
                                                                              encoder_lr=1e-3, device="cpu"),
                                progress=False)
    assert bert.fingerprint() != before  # the encoder itself learnt
    scorer.save(tmp_path / "tuned", {"model": "realism-head"})
    assert (tmp_path / "tuned" / ENCODER_DIR / "model.safetensors").exists()
    loaded = PairScorer.load(tmp_path / "tuned", None, "realism", "cpu")  # brings its own encoder
    probe = (["Ada, Analyst"], ["## Profile\nI analyse data."])
    assert torch.allclose(loaded.logits(*probe), scorer.logits(*probe), atol=1e-5)
    # Put the untrained encoder back in its place: the head's inputs would mean something else.
    for name in ("model.safetensors", "config.json"):
        (tmp_path / "tuned" / ENCODER_DIR / name).write_bytes((tiny_bert_dir / name).read_bytes())
    with pytest.raises(CheckpointError, match="different model"):
        PairScorer.load(tmp_path / "tuned", None, "realism", "cpu")






