"""The writer's commands, in-process through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from implementor.cli.main import app

runner = CliRunner()
REQUEST = "Could someone help us plan a marketing strategy for the spring launch?"


def test_reply_prints_the_asked_number_of_candidates(tiny_writer_dir: Path) -> None:
    result = runner.invoke(app, ["reply", REQUEST, "--n", "3", "--seed", "1", "--model", str(tiny_writer_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.count("--- candidate") == 3


def test_cv_prints_a_heading_with_name_and_title(tiny_writer_dir: Path) -> None:
    result = runner.invoke(app, ["cv", "--name", "Ada Lovelace", "--title", "Data Scientist", "--seed", "2",
                                 "--model", str(tiny_writer_dir)])
    assert result.exit_code == 0, result.output
    assert "# Ada Lovelace\n**Data Scientist**" in result.output


def test_bad_input_is_refused_without_a_traceback(tiny_writer_dir: Path) -> None:
    from implementor.cli.main import main  # noqa: F401 - the wrapper that maps our errors to exit code 2

    result = runner.invoke(app, ["reply", "  ", "--model", str(tiny_writer_dir)])
    assert result.exit_code != 0
    assert "the request is empty" in str(result.exception)
    result = runner.invoke(app, ["reply", REQUEST, "--temperature", "0", "--model", str(tiny_writer_dir)])
    assert "temperature" in str(result.exception)


def test_train_text_needs_exactly_one_starting_point(tmp_path: Path, mini_corpus: Path) -> None:
    both = runner.invoke(app, ["train", "text", "--out", str(tmp_path / "w"), "--data", str(mini_corpus),
                               "--from-scratch", "--base", "gpt2"])
    assert "choose one" in str(both.exception)
    neither = runner.invoke(app, ["train", "text", "--out", str(tmp_path / "w"), "--data", str(mini_corpus)])
    assert "choose one" in str(neither.exception)


def test_fine_tuning_a_local_base_through_the_command(tmp_path: Path, mini_corpus: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`--base DIR`: a GPT-2 saved with save_pretrained, fine-tuned with LoRA; only the adapter is saved."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from implementor.models.writer.prompts import EOS, training_text
    from implementor.training.corpus.splits import load_split
    from implementor.training.writer.scratch import train_tokenizer

    base = tmp_path / "base"
    tokenizer = train_tokenizer([training_text(r) for r in load_split(mini_corpus, "train")], 500)
    tokenizer.save_pretrained(base)
    eos = tokenizer.convert_tokens_to_ids(EOS)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=192, n_embd=32, n_layer=1, n_head=2,
                               eos_token_id=eos, bos_token_id=eos)).save_pretrained(base)
    out = tmp_path / "tuned"
    monkeypatch.setenv("IMPLEMENTOR_CACHE_DIR", str(tmp_path / "cache"))
    result = runner.invoke(app, ["train", "text", "--base", str(base), "--data", str(mini_corpus), "--out", str(out),
                                 "--steps", "2", "--batch-size", "2", "--block-size", "64", "--eval-every", "2",
                                 "--lora-r", "2", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "card.json").read_text())
    assert card["base"]["source"] == "dir" and card["base"]["name"] == str(base.resolve())
    assert card["train_config"]["lr"] == 3e-4 and card["lora"]["r"] == 2 and (out / "adapter.safetensors").exists()
    reply = runner.invoke(app, ["reply", REQUEST, "--seed", "0", "--model", str(out)])
    assert reply.exit_code == 0, reply.output


def test_eval_text_writes_json_and_records_it(tiny_writer_dir: Path, mini_corpus: Path, tmp_path: Path) -> None:
    import shutil

    ckpt = tmp_path / "w"
    shutil.copytree(tiny_writer_dir, ckpt)
    result = runner.invoke(app, ["eval", "text", str(ckpt), "--data", str(mini_corpus), "--cv-prompts", "1",
                                 "--reply-prompts", "1", "--record", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    report = json.loads((ckpt / "eval_text.json").read_text())
    assert report["cvs_generated"] == 4 and report["replies_generated"] >= 1
    card = json.loads((ckpt / "card.json").read_text())
    assert card["metrics"]["eval"]["perplexity"] == report["perplexity"]
