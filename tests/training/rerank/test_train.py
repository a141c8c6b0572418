"""Fitting a head: the loss falls, validation prompts are unseen."""

from __future__ import annotations

from collections.abc import Callable

from implementor.models.common.encoder import SentenceEncoder
from implementor.models.rerank.head import HeadConfig
from implementor.training.rerank.examples import PairExamples, split_by_group
from implementor.training.rerank.train import HeadTrainConfig, train_head


def test_a_short_training_run_improves_the_loss(
        bert: SentenceEncoder, head_config: Callable[..., HeadConfig], realism_data: PairExamples) -> None:
    scorer, report = train_head(bert, head_config(bert), realism_data, HeadTrainConfig(epochs=15, patience=15,
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
