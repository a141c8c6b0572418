"""The BERT pair-scoring heads on a small locally saved BERT: training, checkpoints, encoder checks."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch

from config.errors import CheckpointError
from models.corpus import load_split
from models.encoder import SentenceEncoder
from models.pair_head import ENCODER_DIR, HeadConfig, PairScorer
from models.pair_head_train import HeadTrainConfig, PairExamples, split_by_group, train_head
from models.quality_data import bootstrap_examples
from models.realism_data import generate_fakes, pick_prompts, realism_examples, sampling_mismatch
from models.rerank import Reranker
from models.writer import LiveSampling, SamplingSettings, Writer


@pytest.fixture(scope="module")
def bert(tiny_bert_dir: Path) -> SentenceEncoder:
    return SentenceEncoder.load(tiny_bert_dir, "cpu")


def _config(bert: SentenceEncoder, task: str = "realism", finetune: bool = False) -> HeadConfig:
    return HeadConfig(task=task, encoder=bert.name, encoder_fingerprint=bert.fingerprint(),  # type: ignore[arg-type]
                      encoder_width=bert.width, layers=(1, 2), hidden=32, max_length=128, finetuned_encoder=finetune)


@pytest.fixture(scope="module")
def realism_data(tiny_writer_dir: Path, mini_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> PairExamples:
    writer = Writer.load(tiny_writer_dir, "cpu")
    records = pick_prompts(load_split(mini_corpus, "train"), 20, seed=0)
    cache = tmp_path_factory.mktemp("fakes") / "fakes.jsonl"
    fakes = generate_fakes(writer, records, 1, seed=0, cache=cache, progress=False)
    assert len(fakes) == 40 and cache.exists()
    return realism_examples(records, fakes)


def test_pair_features_pool_the_chosen_layers(bert: SentenceEncoder) -> None:
    features = bert.pair_features(["a request"] * 3, ["one reply", "another, longer reply", "x"], layers=(1, 2))
    assert features.shape == (3, 2 * bert.width)
    again = bert.pair_features(["a request"], ["another, longer reply"], layers=(1, 2))
    assert torch.allclose(features[1], again[0], atol=1e-5)  # batching and padding change nothing


def test_a_short_training_run_improves_the_loss(bert: SentenceEncoder, realism_data: PairExamples) -> None:
    scorer, report = train_head(bert, _config(bert), realism_data, HeadTrainConfig(epochs=15, patience=15,
                                                                                     device="cpu"), progress=False)
    losses = [h["loss"] for h in report["history"]]
    assert min(losses) < losses[0]
    assert report["validation"]["loss"] == min(losses)
    assert "auc" in report["validation"]
    assert scorer.logits(["Ada, Analyst"], ["some text"]).shape == (1,)


def test_validation_prompts_are_unseen(realism_data: PairExamples) -> None:
    train, held = split_by_group(realism_data, 0.2, seed=0)
    assert not {realism_data.groups[i] for i in train} & {realism_data.groups[i] for i in held}
    assert held and train


def test_checkpoints_round_trip_and_refuse_another_encoder(bert: SentenceEncoder, realism_data: PairExamples,
                                                           tmp_path: Path) -> None:
    scorer, _ = train_head(bert, _config(bert), realism_data, HeadTrainConfig(epochs=2, device="cpu"), progress=False)
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


def test_fine_tuning_saves_and_reloads_the_encoder(tiny_bert_dir: Path, realism_data: PairExamples,
                                                   tmp_path: Path) -> None:
    bert = SentenceEncoder.load(tiny_bert_dir, "cpu")
    before = bert.fingerprint()
    config = _config(bert, finetune=True)
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


def test_quality_bootstrap_pairs_each_prompt_with_a_match_and_a_mismatch(mini_corpus: Path) -> None:
    records = load_split(mini_corpus, "train")[:30]
    examples = bootstrap_examples(records, seed=0)
    assert len(examples) == 60 and sum(examples.targets) == 30
    for i in range(0, 60, 2):
        assert examples.groups[i] == examples.groups[i + 1]
        assert examples.texts[i] != examples.texts[i + 1]


def test_mismatched_sampling_settings_are_detected(caplog: pytest.LogCaptureFixture) -> None:
    trained = LiveSampling().to_dict()
    assert sampling_mismatch(trained, LiveSampling()) == []
    hotter = LiveSampling(reply=SamplingSettings(temperature=1.0))
    assert sampling_mismatch(trained, hotter) == ["reply.temperature: trained on 0.7, live 1.0"]
    assert sampling_mismatch(None, LiveSampling())  # unknown settings are a mismatch too


def test_the_reranker_warns_about_a_sampling_mismatch(bert: SentenceEncoder, realism_data: PairExamples,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    realism, _ = train_head(bert, _config(bert), realism_data, HeadTrainConfig(epochs=1, device="cpu"), progress=False)
    quality, _ = train_head(bert, _config(bert, "quality"), realism_data, HeadTrainConfig(epochs=1, device="cpu"),
                            progress=False)
    realism.card = {"sampling": LiveSampling().to_dict()}
    reranker = Reranker(realism, quality)
    assert reranker.shared  # one encoder pass serves both heads
    with caplog.at_level(logging.WARNING):
        reranker.check_sampling(LiveSampling(cv=SamplingSettings(top_k=0, max_new_tokens=480)))
    assert "cv.top_k: trained on 40, live 0" in caplog.text
    ranked = reranker.rerank("Ada, Analyst", ["## Profile\nI analyse data for a living, mostly sales figures.",
                                              "## Profile\nI build bridges and inspect them every spring."])
    assert len(ranked.candidates) == 2 and all(1.0 <= c.quality <= 5.0 for c in ranked.candidates)
