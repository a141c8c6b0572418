"""Fixtures of the model tests (serving and training): tiny pretrained bases of both families, saved as a
hub model would be (what `--base DIR` fine-tunes), and for the reranking tests a small local BERT, a head
config for it, and realism examples. Loaded by tests/conftest.py where torch is installed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from implementor.models.common.encoder import SentenceEncoder
from implementor.models.rerank.head import HeadConfig
from implementor.models.writer.model import Writer
from implementor.training.corpus.splits import load_split
from implementor.training.rerank.examples import PairExamples
from implementor.training.rerank.realism_data import generate_fakes, pick_prompts, realism_examples


@pytest.fixture(scope="session")
def smollm2_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2's own tokenizer (with its chat template), read from the packaged GGUF once."""
    from transformers import AutoTokenizer

    from implementor.models.writer.base import _packaged_file

    gguf = _packaged_file("smollm2")
    out = tmp_path_factory.mktemp("smollm2-tokenizer")
    AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_llama_base(tmp_path_factory: pytest.TempPathFactory, smollm2_tokenizer_dir: Path) -> Path:
    """A random 2-layer Llama, 32 wide, with SmolLM2's tokenizer: the packaged base's family in miniature."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(str(smollm2_tokenizer_dir))
    out = tmp_path_factory.mktemp("base") / "llama"
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                         tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_gpt2_base(tmp_path_factory: pytest.TempPathFactory, tiny_writer_dir: Path) -> Path:
    """A random 2-layer GPT-2 with a GPT-2 style tokenizer and no chat template (the `gpt2` family)."""
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_writer_dir))
    out = tmp_path_factory.mktemp("base") / "gpt2"
    torch.manual_seed(0)
    eos = tokenizer.eos_token_id
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=512, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=eos, eos_token_id=eos, pad_token_id=eos)
    GPT2LMHeadModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_llama_gguf_base(tmp_path_factory: pytest.TempPathFactory, tiny_llama_base: Path) -> Path:
    """The tiny Llama as a directory holding one GGUF file (float32), as the packaged base is one GGUF file."""
    from transformers import AutoModelForCausalLM

    from implementor.models.writer.base import _packaged_file
    from implementor.models.writer.llama_file import write_gguf

    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_base), use_safetensors=True, dtype=torch.float32)
    out = tmp_path_factory.mktemp("base") / "llama-gguf"
    write_gguf(model, _packaged_file("smollm2"), out / "tiny-llama.gguf", "F32")
    return out


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
