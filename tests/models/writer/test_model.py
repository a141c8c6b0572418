from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from implementor.contracts.errors import CheckpointError
from implementor.models.writer.model import SamplingSettings, Writer
from implementor.models.writer.prompts import CONTROL_TOKENS, EOS, PERSONA_TOKENS
from implementor.training.writer.scratch import load_pretrained


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        Writer.load(tmp_path / "nope", "cpu")


def test_pickled_weights_are_refused(tiny_writer_dir: Path, tmp_path: Path) -> None:
    ckpt = _copy(tiny_writer_dir, tmp_path / "w")
    (ckpt / "model.safetensors").unlink()
    torch.save({"w": torch.zeros(1)}, ckpt / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="refusing pickled"):
        Writer.load(ckpt, "cpu")


def test_a_replaced_weights_file_fails_its_checksum(tiny_writer_dir: Path, tmp_path: Path) -> None:
    ckpt = _copy(tiny_writer_dir, tmp_path / "w")
    data = bytearray((ckpt / "model.safetensors").read_bytes())
    data[-5] ^= 0xFF
    (ckpt / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        Writer.load(ckpt, "cpu")


def test_a_config_that_does_not_fit_the_weights_is_refused(tiny_writer_dir: Path, tmp_path: Path) -> None:
    ckpt = _copy(tiny_writer_dir, tmp_path / "w")
    config = json.loads((ckpt / "config.json").read_text())
    config["n_embd"] *= 2
    (ckpt / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="could not load the writer"):
        Writer.load(ckpt, "cpu")


def test_sampling_settings_come_from_the_card(tiny_writer_dir: Path, tmp_path: Path) -> None:
    ckpt = _copy(tiny_writer_dir, tmp_path / "w")
    card = json.loads((ckpt / "card.json").read_text())
    card["sampling"]["reply"]["temperature"] = 0.9
    card.pop("sha256")
    (ckpt / "card.json").write_text(json.dumps(card))
    assert Writer.load(ckpt, "cpu").sampling.reply.temperature == 0.9
    with pytest.raises(ValueError, match="temperature"):
        SamplingSettings(temperature=0.0)


@pytest.fixture(scope="module")
def local_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small pretrained-style GPT-2 saved with save_pretrained: what `--base DIR` reads offline."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    out = tmp_path_factory.mktemp("gpt2")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(["the quick brown fox jumps over the lazy dog"] * 50, vocab_size=300,
                            special_tokens=[EOS])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token=EOS, bos_token=EOS)
    tokenizer.save_pretrained(out)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=128, n_embd=32, n_layer=1, n_head=2,
                               eos_token_id=0, bos_token_id=0)).save_pretrained(out)
    return out


def test_a_pretrained_base_gains_the_control_tokens(local_gpt2: Path) -> None:
    model, tokenizer = load_pretrained(local_gpt2)
    before = json.loads((local_gpt2 / "config.json").read_text())["vocab_size"]
    assert len(tokenizer) == before + len(CONTROL_TOKENS) + len(PERSONA_TOKENS)
    assert model.get_input_embeddings().num_embeddings == len(tokenizer)
    assert tokenizer.pad_token == EOS
    ids = tokenizer("<|cv|><|name|> Ada")["input_ids"]
    assert tokenizer.convert_ids_to_tokens(ids[:2]) == ["<|cv|>", "<|name|>"]
    assert tokenizer.convert_ids_to_tokens(tokenizer("<|persona|> Ada")["input_ids"][:1]) == ["<|persona|>"]


def test_an_unreachable_hub_name_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CheckpointError, match="could not load the GPT-2 'no-such-org/no-such-gpt2'"):
        load_pretrained("no-such-org/no-such-gpt2")
