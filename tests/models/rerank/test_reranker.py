"""The reranker: both heads on one encoder, and the sampling check."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from implementor.models.common.encoder import SentenceEncoder
from implementor.models.rerank.head import HeadConfig
from implementor.models.rerank.policy import RerankPolicy
from implementor.models.rerank.reranker import Reranker, sampling_mismatch
from implementor.models.writer.model import LiveSampling, SamplingSettings
from implementor.training.rerank.examples import PairExamples
from implementor.training.rerank.train import HeadTrainConfig, train_head


def test_mismatched_sampling_settings_are_detected(caplog: pytest.LogCaptureFixture) -> None:
    trained = LiveSampling().to_dict()
    assert sampling_mismatch(trained, LiveSampling()) == []
    hotter = LiveSampling(reply=SamplingSettings(temperature=1.0))
    assert sampling_mismatch(trained, hotter) == ["reply.temperature: trained on 0.7, live 1.0"]
    assert sampling_mismatch(None, LiveSampling())  # unknown settings are a mismatch too
    fewer = LiveSampling(cv=SamplingSettings(max_new_tokens=400, candidates=4))
    assert sampling_mismatch(trained, fewer) == []  # how many drafts, and the cap, change no draft

def test_the_reranker_warns_about_a_sampling_mismatch(
        bert: SentenceEncoder, head_config: Callable[..., HeadConfig], realism_data: PairExamples,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    realism, _ = train_head(bert, head_config(bert), realism_data, HeadTrainConfig(epochs=1, device="cpu"),
                            progress=False)
    quality, _ = train_head(bert, head_config(bert, "quality"), realism_data, HeadTrainConfig(epochs=1, device="cpu"),
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
    # A server's own share of exploration, per prompt: always for the first, never for the second.
    open_minded = Reranker(realism, quality, RerankPolicy(threshold=0.0, explore=0.5))
    drafts = ["I would start with a short workshop to agree on the launch goals and the audience.",
              "Happy to help: we could map the channels first, then set a budget for each of them.",
              "My first step would be a look at last spring's campaign and what it brought in."]
    first, second = open_minded.rerank_many([("Plan our launch?", drafts), ("Plan our launch?", drafts)], "reply",
                                            explore=[1.0, 0.0])
    assert first.explored and not second.explored
    assert [c.propensity for c in second.candidates if c.chosen] == [1.0]
