"""The benchmarks run end to end on tiny models and write what the docs quote (not their speed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import face_generator, rerank, text_generation


def test_the_face_benchmark_times_both_batch_sizes_and_writes_json(tiny_checkpoint: Path, tmp_path: Path) -> None:
    result = face_generator.run_benchmark(tiny_checkpoint, "cpu", 1, tmp_path / "face.json")
    assert json.loads((tmp_path / "face.json").read_text()) == result
    assert result["ratio_batch64_over_batch1"] > 0 and result["machine"]["device"] == "cpu"


@pytest.fixture(scope="module")
def converted_writer(tiny_writer_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from implementor.models.writer.ct2_file import export_ctranslate2

    folder = tmp_path_factory.mktemp("bench") / "writer"
    shutil.copytree(tiny_writer_dir, folder)
    export_ctranslate2(folder)
    return folder


def test_the_text_benchmark_compares_the_paths_and_the_cross_request_batch(converted_writer: Path,
                                                                            tmp_path: Path) -> None:
    result = text_generation.run_benchmark(converted_writer, "cpu", 1, 8, tmp_path / "text.json")
    # A GPT-2 writer has no GGUF copy: the project's engine is CTranslate2 and llama.cpp sits out.
    assert result["engine"] == "ctranslate2" and "llama_plain" not in result["tokens_per_s"]
    assert {"project", "hf_generate_float32", "ct2_plain", "torch_path", "batched_16",
            "one_at_a_time_16"} <= set(result["tokens_per_s"])
    assert result["tokens"]["project"] == result["tokens"]["hf_generate_float32"] == 8 * 8
    assert all(result[k] > 0 for k in ("project_over_hf_generate_float32", "project_over_ct2_plain",
                                       "project_over_torch_path", "cross_request_batched_over_one_at_a_time"))
    assert json.loads((tmp_path / "text.json").read_text())["candidates"] == 8


def test_the_decode_benchmark_reports_steps_against_the_bandwidth_floor(converted_writer: Path,
                                                                        tmp_path: Path) -> None:
    from bench import decode_latency

    result = decode_latency.run_benchmark(1, tmp_path / "decode.json", steps=4, writer_path=converted_writer)
    assert result["stream_bandwidth_gb_s"] > 0
    assert set(result["ms_per_step"]) == set(result["floor_ms"]) == {"project", "ct2_int8", "torch_float32"}
    assert result["weights"]["ct2_int8"]["type"] == "int8" and result["floor_ms"]["torch_float32"] > 0


def test_the_end_to_end_benchmark_times_every_path(tiny_env: dict[str, str], converted_writer: Path,
                                                   tmp_path: Path) -> None:
    from bench import end_to_end

    models = {k.removeprefix("IMPLEMENTOR_").lower(): v for k, v in tiny_env.items()}
    models["writer_model"] = str(converted_writer)  # the CTranslate2 path needs the writer's converted copy
    result = end_to_end.run_benchmark(2, tmp_path / "e2e.json", models)
    assert set(result["latency"]) == {"ctranslate2", "auto", "auto_every_draft"}
    assert set(result["speedup_p50"]) == {"introduce", "project"}
    assert all(v["p95_s"] >= v["p50_s"] > 0 for path in result["latency"].values() for v in path.values())
    assert {"face_ms", "draft_ms", "rerank_ms"} <= set(result["stages_ms_p50"]["auto"]["introduce"])


def test_the_rerank_benchmark_reports_ms_per_candidate(tiny_heads: dict[str, Path], tiny_bert_dir: Path,
                                                      tmp_path: Path) -> None:
    result = rerank.run_benchmark(tiny_heads["realism"], tiny_heads["quality"], str(tiny_bert_dir), "cpu", 1,
                                  tmp_path / "rerank.json")
    assert set(result["ms_per_candidate"]) == {"batched", "one_at_a_time"} and result["shared_encoder_pass"]
    assert (tmp_path / "rerank.json").exists()


def test_the_machine_names_its_cpu_and_the_extensions_the_engines_use(tmp_path: Path) -> None:
    """Absolute times differ between an Intel with AMX and an AMD without it: the result says which ran."""
    from bench.common import cpu_model

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2 avx512f avx512_bf16 sse4_2\n")
    assert cpu_model(info) == {"cpu_model": "AMD EPYC 9R14", "cpu_flags": ["avx2", "avx512f", "avx512_bf16"]}
    assert cpu_model(tmp_path / "absent") == {}


def test_make_bench_runs_every_benchmark_the_bench_command_has() -> None:
    from typer.main import get_command

    from bench.__main__ import app

    makefile = (Path(__file__).parents[2] / "Makefile").read_text(encoding="utf-8")
    assert set(re.findall(r"python -m bench (\w+)", makefile)) == set(get_command(app).commands)  # type: ignore[attr-defined]


def test_a_bad_option_is_one_clear_line() -> None:
    root = Path(__file__).parents[2]
    done = subprocess.run([sys.executable, "-m", "bench", "decode", "--repeats", "0"], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.strip() == "error: --repeats and --steps must be positive"


def test_each_machine_is_named_in_plain_words_and_keeps_its_own_folder() -> None:
    from bench.common import machine_name, machine_slug

    intel = {"cpu_model": "Intel(R) Xeon(R) Processor", "cpu_flags": ["avx2", "avx512f", "amx_bf16"], "cores": 2}
    amd = {"cpu_model": "AMD EPYC 7R13 48-Core Processor", "cpu_flags": ["avx2"], "cores": 2}
    assert machine_name(intel) == "2-core Intel Xeon with AVX-512 and AMX"
    assert machine_name(amd) == "2-core AMD EPYC 7R13 with AVX2, no AVX-512"
    assert machine_name({**intel, "cpu_flags": ["avx2", "avx512f"], "gpu": "NVIDIA H100"}) == (
        "2-core Intel Xeon with AVX-512, no AMX and an NVIDIA H100")
    assert machine_slug(intel) == "2-core-intel-xeon-with-avx512-and-amx" != machine_slug(amd)


def test_the_summary_prints_each_machines_rows_apart(tmp_path: Path) -> None:
    """Rows from two machines never share a table, and a figure one machine lacks is not borrowed."""
    from bench.summary import summary

    intel = {"cpu_model": "Intel Xeon", "cpu_flags": ["avx2", "avx512f", "amx_bf16"], "cores": 2}
    amd = {"cpu_model": "AMD EPYC", "cpu_flags": ["avx2"], "cores": 2}
    decode = {"machine": intel, "ms_per_step": {"project": 11.5, "llama_plain": 12.0, "llama_plain_base": 12.4,
                                                "project_base": 10.0},
              "project_over_llama_plain": 1.04, "project_over_llama_plain_base": 1.08,
              "project_base_over_llama_plain_base": 1.24, "weights": {"project": {"type": "Q4_1"}}}
    e2e = {"machine": amd, "jobs_per_kind": 6, "latency": {"auto": {"introduce": {"p50_s": 7.5, "p95_s": 8.0},
                                                                     "project": {"p50_s": 3.0, "p95_s": 3.5}}}}
    for folder, name, result in (("intel", "decode_latency", decode), ("amd", "end_to_end", e2e)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / f"{name}.json").write_text(json.dumps(result))
    amd_table, intel_table = summary(tmp_path).split("\n\n### ")
    assert amd_table.startswith("### 2-core AMD EPYC with AVX2") and intel_table.startswith("2-core Intel Xeon")
    assert "p50 7.5 / 3.0 s" in amd_table
    assert "bench decode" not in amd_table and "bench e2e" not in intel_table
    assert "| 1.04x | 11.5 ms against 12.0 ms |" in intel_table  # the engine and plain llama.cpp on one file
    assert "| 1.24x | 10.0 ms against 12.4 ms |" in intel_table  # both on the package's file
    assert "own copy (Q4_1) against llama.cpp plainly on the package's Q4_1 file | 1.08x" in intel_table
    assert summary(tmp_path / "none") == ""
