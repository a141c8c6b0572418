"""Shared by the reranking tests: a small local BERT, a head config for it, and realism examples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from models.common.encoder import SentenceEncoder
from models.corpus.splits import load_split
from models.rerank.examples import PairExamples
from models.rerank.head import HeadConfig
from models.rerank.realism_data import generate_fakes, pick_prompts, realism_examples
from models.writer.model import Writer


@pytest.fixture(scope="module")
def bert(tiny_bert_dir: Path) -> SentenceEncoder:
    return SentenceEncoder.load(tiny_bert_dir, "cpu")


def _head_config(bert: SentenceEncoder, task: str = "realism", finetune: bool = False) -> HeadConfig:
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


@pytest.fixture
def head_config() -> Callable[..., HeadConfig]:
    """A small head config for a given encoder: head_config(bert, task="realism", finetune=False)."""
    return _head_config
