"""The benchmarks run end to end on tiny models and write what the README quotes (not their speed)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import face_generator, rerank, text_generation


def test_the_face_benchmark_times_both_batch_sizes_and_writes_json(tiny_checkpoint: Path, tmp_path: Path) -> None:
    result = face_generator.run_benchmark(tiny_checkpoint, "cpu", 1, tmp_path / "face.json")
    assert json.loads((tmp_path / "face.json").read_text()) == result
    assert result["ratio_batch64_over_batch1"] > 0 and result["machine"]["device"] == "cpu"


def test_the_text_benchmark_compares_the_three_paths(tiny_writer_dir: Path, tmp_path: Path) -> None:
    result = text_generation.run_benchmark(tiny_writer_dir, "cpu", 1, 8, tmp_path / "text.json", gpt2_size=False)
    measured = result["models"]["writer"]
    assert measured["speedup_batched_over_generate"] > 0 and measured["speedup_batched_over_pipeline"] > 0
    assert set(measured["tokens_per_s"]) == {"batched", "generate", "pipeline"}
    assert json.loads((tmp_path / "text.json").read_text())["candidates"] == 8


def test_the_rerank_benchmark_reports_ms_per_candidate(tiny_heads: dict[str, Path], tiny_bert_dir: Path,
                                                      tmp_path: Path) -> None:
    result = rerank.run_benchmark(tiny_heads["realism"], tiny_heads["quality"], str(tiny_bert_dir), "cpu", 1,
                                  tmp_path / "rerank.json")
    assert set(result["ms_per_candidate"]) == {"batched", "one_at_a_time"} and result["shared_encoder_pass"]
    assert (tmp_path / "rerank.json").exists()
