"""Fine-tuning a pretrained base with LoRA: both families train, save only the adapter, load through the
cache and draft; a run resumes exactly; a base that differs is refused; a corrupt cache is rebuilt."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import torch

from implementor.contracts.errors import CheckpointError
from implementor.models.common.checkpoint import CARD_FILE, WEIGHTS_FILE, load_tensors, read_json, sha256_file
from implementor.models.writer.adapter import ADAPTER_FILE, MANIFEST_FILE
from implementor.models.writer.drafts import draft_cv, draft_replies
from implementor.models.writer.engine_choice import load_engine
from implementor.models.writer.model import SamplingSettings, Writer
from implementor.training.writer.finetune import FineTuneConfig, FineTuneSpec, finetune


def _spec(out: Path, base: Path, corpus: Path, steps: int, resume: bool = False, loss_on: str = "completion"
          ) -> FineTuneSpec:
    config = FineTuneConfig(steps=steps, batch_size=2, block_size=128, eval_every=2, eval_blocks=4, lr=1e-2,
                            warmup_steps=1, device="cpu", bf16=False, loss_on=loss_on)
    return FineTuneSpec(out, str(base), corpus, lora_r=4, train=config, resume=resume, command="test")


@pytest.fixture(autouse=True)
def _cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("IMPLEMENTOR_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("family", ["llama", "gpt2"])
def test_each_family_fine_tunes_saves_only_the_adapter_loads_and_drafts(
        family: str, tiny_llama_base: Path, tiny_gpt2_base: Path, mini_corpus: Path, tmp_path: Path) -> None:
    base = tiny_llama_base if family == "llama" else tiny_gpt2_base
    card = finetune(_spec(tmp_path / "writer", base, mini_corpus, steps=4), progress=False)
    saved = sorted(p.name for p in (tmp_path / "writer").iterdir())
    assert ADAPTER_FILE in saved and WEIGHTS_FILE not in saved  # only what is ours ships
    assert card["base"] == {"source": "dir", "name": str(base.resolve()), "sha256": sha256_file(base / WEIGHTS_FILE)}
    assert card["steps"] == 4 and card["prompt_format"] == "instruct"
    assert card["metrics"]["history"][0]["validation_loss"] > card["metrics"]["validation_loss"]  # it learns

    writer = Writer.load(tmp_path / "writer", "cpu")
    assert writer.format.name == "instruct" and writer.format.chat == (family == "llama")
    assert writer.eos_id == writer.tokenizer.convert_tokens_to_ids(writer.tokenizer.eos_token)
    settings = SamplingSettings(max_new_tokens=24)
    engine = load_engine(writer, "auto")
    assert engine.name == "ctranslate2"  # the cache holds the converted copy
    cvs = draft_cv(writer, "Ada Lovelace", "Data Scientist", n=2, seed=1, settings=settings, engine=engine)
    replies = draft_replies(writer, "Can someone help with the audit?", n=2, seed=1, settings=settings)
    assert cvs and replies and all(isinstance(t, str) for t in cvs + replies)


def test_greedy_drafts_agree_between_the_engines_on_a_llama(tiny_llama_base: Path, mini_corpus: Path,
                                                             tmp_path: Path) -> None:
    from implementor.models.writer.ct2_engine import CTranslate2Engine
    from implementor.models.writer.torch_engine import TorchEngine

    finetune(_spec(tmp_path / "writer", tiny_llama_base, mini_corpus, steps=2), progress=False)
    writer = Writer.load(tmp_path / "writer", "cpu")
    greedy = SamplingSettings(top_k=1, max_new_tokens=16)
    prompts = [writer.tokenizer(writer.format.cv("Ada Lovelace", "Data Scientist"))["input_ids"]]
    reference = TorchEngine(writer).sample(prompts, 1, greedy, seed=0, min_new_tokens=16)
    fast = CTranslate2Engine(writer, compute="float32").sample(prompts, 1, greedy, seed=0, min_new_tokens=16)
    assert fast[0][0] == reference[0][0]


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(tiny_llama_base: Path, mini_corpus: Path,
                                                           tmp_path: Path) -> None:
    finetune(_spec(tmp_path / "whole", tiny_llama_base, mini_corpus, steps=4), progress=False)
    finetune(_spec(tmp_path / "parts", tiny_llama_base, mini_corpus, steps=2), progress=False)
    card = finetune(_spec(tmp_path / "parts", tiny_llama_base, mini_corpus, steps=4, resume=True), progress=False)
    assert card["steps"] == 4 and len(card["resumed"]) == 1
    whole, parts = (load_tensors(tmp_path / run / ADAPTER_FILE) for run in ("whole", "parts"))
    assert whole.keys() == parts.keys()
    assert all(torch.allclose(whole[k], parts[k], atol=1e-6) for k in whole)


def test_a_missing_or_different_base_is_refused_in_one_line(tiny_llama_base: Path, mini_corpus: Path,
                                                            tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    base = tmp_path / "base"
    shutil.copytree(tiny_llama_base, base)
    finetune(_spec(tmp_path / "writer", base, mini_corpus, steps=2), progress=False)
    Writer.load(tmp_path / "writer", "cpu")  # builds the cache
    model = AutoModelForCausalLM.from_pretrained(str(base), use_safetensors=True)
    with torch.no_grad():
        model.lm_head.weight.mul_(2)
    model.save_pretrained(base)  # another version of the base, in the same place
    with pytest.raises(CheckpointError, match="not the one it was fine-tuned from") as refused:
        Writer.load(tmp_path / "writer", "cpu")
    assert "\n" not in str(refused.value)
    shutil.rmtree(base)
    with pytest.raises(CheckpointError, match="does not exist"):
        Writer.load(tmp_path / "writer", "cpu")


def test_a_corrupt_cache_is_rebuilt_not_trusted(tiny_llama_base: Path, mini_corpus: Path, tmp_path: Path,
                                                _cache: Path, caplog: pytest.LogCaptureFixture) -> None:
    finetune(_spec(tmp_path / "writer", tiny_llama_base, mini_corpus, steps=2), progress=False)
    first = Writer.load(tmp_path / "writer", "cpu")
    entry = first.served_from
    assert entry is not None and entry.is_relative_to(_cache)
    ids = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        built = first.model(input_ids=ids).logits  # now: the loaded weights may be the file itself, mapped
    weights = entry / WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[-8:] = b"\x00" * 8  # a flipped tail: still a file of the right size, but not the one built
    weights.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        again = Writer.load(tmp_path / "writer", "cpu")
    assert "rebuilding" in caplog.text
    manifest = read_json(entry / MANIFEST_FILE, "manifest")
    assert sha256_file(weights) == manifest["files"][WEIGHTS_FILE]
    with torch.no_grad():
        assert torch.allclose(again.model(input_ids=ids).logits, built)


def test_a_tampered_adapter_is_refused(tiny_llama_base: Path, mini_corpus: Path, tmp_path: Path) -> None:
    finetune(_spec(tmp_path / "writer", tiny_llama_base, mini_corpus, steps=2), progress=False)
    card = read_json(tmp_path / "writer" / CARD_FILE, "card")
    assert card["sha256"][ADAPTER_FILE] == sha256_file(tmp_path / "writer" / ADAPTER_FILE)
    with (tmp_path / "writer" / ADAPTER_FILE).open("ab") as fh:
        fh.write(b"\x00")
    with pytest.raises(CheckpointError, match="does not match the sha256"):
        Writer.load(tmp_path / "writer", "cpu")


def test_only_the_completion_is_learned_and_the_prompt_is_a_prefix_of_the_example(
        tiny_llama_base: Path, mini_corpus: Path, tmp_path: Path) -> None:
    """The prompt's tokens, counted alone, are exactly the example's first tokens (the loss skips those)."""
    from implementor.models.writer.base import load_base, parse_base, pin
    from implementor.models.writer.prompts import InstructFormat, format_prompt, format_training_text
    from implementor.training.corpus.splits import load_split
    from implementor.training.writer.finetune import _corpus

    _, tokenizer = load_base(pin(parse_base(str(tiny_llama_base))))
    fmt = InstructFormat(tokenizer)
    for record in load_split(mini_corpus, "train")[:20]:
        whole = tokenizer(format_training_text(fmt, record))["input_ids"]
        prompt = tokenizer(format_prompt(fmt, record))["input_ids"]
        assert whole[: len(prompt)] == prompt and len(whole) > len(prompt)
    (tmp_path / "a").mkdir()
    (docs, context), _, _ = _corpus(_spec(tmp_path / "a", tiny_llama_base, mini_corpus, 1), tokenizer)
    assert all(0 < c < len(d) for d, c in zip(docs, context, strict=True))
    (tmp_path / "b").mkdir()
    (_, everything), _, _ = _corpus(_spec(tmp_path / "b", tiny_llama_base, mini_corpus, 1, loss_on="all"),
                                    tokenizer)
    assert set(everything) == {0}


def test_an_unknown_loss_choice_is_refused(tiny_llama_base: Path, mini_corpus: Path, tmp_path: Path) -> None:
    from implementor.contracts.errors import InputError

    with pytest.raises(InputError, match="--loss-on"):
        finetune(_spec(tmp_path / "w", tiny_llama_base, mini_corpus, 1, loss_on="prompt"), progress=False)
