"""The writer's engines side by side: CTranslate2 against the PyTorch reference it must match."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from implementor.contracts.errors import ConfigError
from implementor.models.writer import engine_choice as engines
from implementor.models.writer.ct2_engine import CTranslate2Engine
from implementor.models.writer.ct2_file import export_ctranslate2
from implementor.models.writer.engine_choice import load_engine
from implementor.models.writer.model import SamplingSettings, Writer
from implementor.models.writer.prompts import cv_prompt, reply_prompt
from implementor.models.writer.torch_engine import TorchEngine
from tests.support.likelihood import mean_log_likelihood

pytest.importorskip("ctranslate2")

PROMPTS = [cv_prompt("Ada Lovelace", "Data Scientist"), reply_prompt("Could someone help us plan the launch?"),
           reply_prompt("We need someone to inspect the ventilation systems before the refit at Harbour Mills.")]


def converted(source: Path, target: Path, quantization: str) -> Writer:
    shutil.copytree(source, target)
    export_ctranslate2(target, quantization=quantization)
    return Writer.load(target, "cpu")


@pytest.fixture(scope="module")
def float32_writer(tiny_writer_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Writer:
    return converted(tiny_writer_dir, tmp_path_factory.mktemp("ct2") / "float32", "float32")


@pytest.fixture(scope="module")
def int8_writer(tiny_writer_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Writer:
    return converted(tiny_writer_dir, tmp_path_factory.mktemp("ct2") / "int8", "int8")


def ids(writer: Writer, prompt: str) -> list[int]:
    return writer.tokenizer(prompt)["input_ids"]


@pytest.mark.parametrize("repetition", [(1.0, 0), (1.3, 0), (1.0, 3), (1.2, 4)])
def test_greedy_drafts_are_the_torch_paths_token_for_token(float32_writer: Writer,
                                                           repetition: tuple[float, int]) -> None:
    """Parity with the reference: same prompt, greedy, the same tokens, repetition control included."""
    penalty, ngram = repetition
    settings = SamplingSettings(top_k=1, max_new_tokens=48, repetition_penalty=penalty, no_repeat_ngram_size=ngram)
    ct2, reference = CTranslate2Engine(float32_writer, threads=1, compute="float32"), TorchEngine(float32_writer)
    for prompt in PROMPTS:
        [(fast, _)] = ct2.sample([ids(float32_writer, prompt)], 1, settings, seed=0)
        [(slow, _)] = reference.sample([ids(float32_writer, prompt)], 1, settings, seed=0)
        assert fast == slow, prompt


def test_repetition_control_reaches_the_engine(float32_writer: Writer) -> None:
    """A 2-gram ban leaves no pair of tokens written twice; without it the tiny model repeats itself."""
    engine = CTranslate2Engine(float32_writer, threads=1, compute="float32")
    prompt = [ids(float32_writer, PROMPTS[0])]

    def pairs(settings: SamplingSettings) -> tuple[int, int]:
        [([row], _)] = engine.sample(prompt, 1, settings, seed=0)
        grams = list(zip(row, row[1:], strict=False))
        return len(grams), len(set(grams))

    total, distinct = pairs(SamplingSettings(top_k=1, max_new_tokens=96, no_repeat_ngram_size=2))
    assert total == distinct
    total, distinct = pairs(SamplingSettings(top_k=1, max_new_tokens=96))
    assert distinct < total


def test_sampled_drafts_are_as_likely_as_the_torch_paths(int8_writer: Writer) -> None:
    """512 drafts from each engine (int8 weights for CTranslate2): mean log-likelihood within 3%."""
    settings = SamplingSettings(max_new_tokens=24)
    prompt = ids(int8_writer, PROMPTS[1])
    fast = [d for seed in range(8) for d in CTranslate2Engine(int8_writer).sample([prompt], 64, settings, seed)[0][0]]
    slow = [d for seed in range(8) for d in TorchEngine(int8_writer).sample([prompt], 64, settings, seed)[0][0]]
    assert len(fast) == len(slow) == 512
    a, b = mean_log_likelihood(int8_writer, prompt, fast), mean_log_likelihood(int8_writer, prompt, slow)
    assert abs(a - b) <= 0.03 * abs(b), (a, b)


def test_a_seed_gives_the_same_drafts_and_no_seed_fresh_ones(int8_writer: Writer) -> None:
    engine = CTranslate2Engine(int8_writer)
    prompt, settings = [ids(int8_writer, PROMPTS[0])], SamplingSettings(max_new_tokens=32)
    first = engine.sample(prompt, 4, settings, seed=7)
    assert engine.sample(prompt, 4, settings, seed=7) == first
    assert engine.sample(prompt, 4, settings, seed=8) != first
    assert engine.sample(prompt, 4, settings, seed=None) != engine.sample(prompt, 4, settings, seed=None)


def test_many_prompts_of_different_lengths_in_one_call(int8_writer: Writer) -> None:
    """The worker's cross-request batch: every prompt gets its n drafts, ended at the end token."""
    engine = CTranslate2Engine(int8_writer)
    prompts = [ids(int8_writer, p) for p in PROMPTS]
    assert len({len(p) for p in prompts}) == len(prompts)
    out = engine.sample(prompts, 3, SamplingSettings(max_new_tokens=40), seed=1)
    assert len(out) == 3 and all(len(rows) == len(ended) == 3 for rows, ended in out)
    assert all(int8_writer.eos_id not in row for rows, _ in out for row in rows)


def test_auto_picks_the_converted_copy_and_falls_back_to_torch(int8_writer: Writer, tiny_writer_dir: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_engine(int8_writer, "auto").name == "ctranslate2"
    assert load_engine(Writer.load(tiny_writer_dir, "cpu"), "auto").name == "torch"  # nothing converted there
    monkeypatch.setattr(engines, "ct2_available", lambda: False)  # as if CTranslate2 were not installed
    assert load_engine(int8_writer, "auto").name == "torch"
    with pytest.raises(ConfigError, match="not installed"):
        load_engine(int8_writer, "ctranslate2")


def test_a_tampered_copy_is_refused(int8_writer: Writer, tmp_path: Path) -> None:
    from implementor.contracts.errors import CheckpointError

    assert int8_writer.path is not None
    copy = tmp_path / "writer"
    shutil.copytree(int8_writer.path, copy)
    (copy / "ctranslate2" / "model.bin").write_bytes(b"not the model")
    with pytest.raises(CheckpointError, match="sha256"):
        CTranslate2Engine(Writer.load(copy, "cpu"))


def test_a_tokenizer_without_a_start_token_still_converts(tiny_writer_dir: Path, tmp_path: Path) -> None:
    """A GPT-2 saved elsewhere may name no bos_token; the converted copy must load all the same."""
    import json

    copy = tmp_path / "writer"
    shutil.copytree(tiny_writer_dir, copy)
    config_path = copy / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config.pop("bos_token", None)
    config_path.write_text(json.dumps(config))
    export_ctranslate2(copy)
    assert json.loads((copy / "ctranslate2" / "config.json").read_text())["bos_token"] == "<|endoftext|>"
    writer = Writer.load(copy, "cpu")
    drafts = CTranslate2Engine(writer).sample([ids(writer, PROMPTS[0])], 2, SamplingSettings(max_new_tokens=8), seed=1)
    assert len(drafts) == 1 and len(drafts[0]) == 2


def test_auto_falls_back_to_torch_with_one_warning_when_the_engine_cannot_load(
        int8_writer: Writer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Library libcublas.so.12 is not found or cannot be loaded")

    monkeypatch.setattr(engines, "CTranslate2Engine", broken)
    with caplog.at_level("WARNING", logger="implementor.models.writer.engine_choice"):
        engine = load_engine(int8_writer, "auto")
    assert isinstance(engine, TorchEngine)
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "libcublas" in warnings[0].getMessage()
    with pytest.raises(RuntimeError, match="libcublas"):  # asked for by name, it is not quietly replaced
        load_engine(int8_writer, "ctranslate2")
