"""Adversarial rounds on tiny models and data: the writer changes, guards roll back, and runs resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from implementor.models.common.checkpoint import sha256_file
from implementor.training.adversarial.rounds import AdversarialSpec, run_adversarial

pytest.importorskip("ctranslate2")


@pytest.fixture
def spec(tiny_writer_dir: Path, tiny_heads: dict[str, Path], tiny_bert_dir: Path, mini_corpus: Path,
         tmp_path: Path) -> AdversarialSpec:
    writer = tmp_path / "start"
    shutil.copytree(tiny_writer_dir, writer)
    return AdversarialSpec(writer=writer, out=tmp_path / "run", quality=tiny_heads["quality"], corpus=mini_corpus,
                           rounds=1, prompts_per_task=4, probe_per_task=4, candidates=2, target_auc=0.0,
                           patience=5, lr=5e-3, encoder=str(tiny_bert_dir), device="cpu", command="test")


def rounds_of(run: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (run / "rounds.jsonl").read_text().splitlines()]


def test_one_round_changes_the_writer_and_logs_it(spec: AdversarialSpec) -> None:
    record = run_adversarial(spec)
    rows = rounds_of(spec.out)
    assert [r["round"] for r in rows] == [0, 1] and rows[1]["accepted"]
    for key in ("auc", "pass_rate", "held_out_perplexity", "distinct_2", "repeated_skill_rate"):
        assert key in rows[1], key
    assert all(0.0 <= share <= 1.0 for share in rows[1]["pass_rate"].values())
    assert (spec.out / "rounds.png").exists() and record["rounds"] == rows
    final = spec.out / "writer" / "model.safetensors"
    assert sha256_file(final) != sha256_file(spec.writer / "model.safetensors")  # it learnt something
    card = json.loads((spec.out / "writer" / "card.json").read_text())
    assert "rejection-sampling" in card["adversarial"]["method"] and card["init"]["base"] == str(spec.writer)
    assert (spec.out / "realism" / "model.safetensors").exists()


def test_a_round_that_collapses_variety_is_rolled_back(spec: AdversarialSpec) -> None:
    from dataclasses import replace

    run_adversarial(replace(spec, min_distinct=1.01))  # no real draft set can be this varied
    [_, rolled] = rounds_of(spec.out)
    assert not rolled["accepted"] and rolled["rolled_back"].startswith("mode collapse")
    final = spec.out / "writer" / "model.safetensors"
    assert sha256_file(final) == sha256_file(spec.writer / "model.safetensors")  # the starting writer stays


def test_resume_continues_the_round_count(spec: AdversarialSpec) -> None:
    from dataclasses import replace

    run_adversarial(spec)
    run_adversarial(replace(spec, rounds=2, resume=True))
    assert [r["round"] for r in rounds_of(spec.out)] == [0, 1, 2]
    from implementor.contracts.errors import InputError

    with pytest.raises(InputError, match="--resume"):
        run_adversarial(spec)  # a second fresh run into the same folder is refused, not mixed in


def test_a_round_on_a_lora_writer_goes_on_training_its_adapter(spec: AdversarialSpec, tiny_llama_base: Path,
                                                               mini_corpus: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from implementor.models.writer.adapter import ADAPTER_FILE
    from implementor.training.writer.finetune import FineTuneConfig, FineTuneSpec, finetune

    monkeypatch.setenv("IMPLEMENTOR_CACHE_DIR", str(tmp_path / "cache"))
    start = tmp_path / "lora"
    config = FineTuneConfig(steps=2, batch_size=2, block_size=64, eval_every=2, eval_blocks=4, lr=1e-2, device="cpu",
                            bf16=False)
    finetune(FineTuneSpec(start, str(tiny_llama_base), mini_corpus, lora_r=4, train=config), progress=False)
    record = run_adversarial(replace(spec, writer=start))
    final = spec.out / "writer"
    assert [r["round"] for r in record["rounds"]] == [0, 1] and (final / ADAPTER_FILE).exists()
    assert not (final / "model.safetensors").exists()  # only the adapter, still
    assert sha256_file(final / ADAPTER_FILE) != sha256_file(start / ADAPTER_FILE)  # it learnt something
    card = json.loads((final / "card.json").read_text())
    assert card["init"]["adapter"] == str(start) and card["base"]["name"] == str(tiny_llama_base.resolve())
    assert card["adversarial"]["method"].startswith("rejection-sampling")
