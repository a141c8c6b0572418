"""`python -m bench summary`: the figures the Performance page quotes, one table per machine.

Reads every machine's folder under bench/results (what `make bench` wrote there) and prints, for each,
the machine in plain words and a Markdown table of the engine's headline comparisons: the batch-1
decode step against llama.cpp used plainly (on the writer's own GGUF copy and on the package's Q4_1
file), 8 drafts x 64 tokens against HF `generate` and llama.cpp drafting them one after another, and
`introduce` / `project` end to end. A figure a machine has not measured is left out, never borrowed
from another machine.

    python -m bench summary
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import RESULTS, machine_name


def _read(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _decode(result: dict[str, Any]) -> list[str]:
    ms, rows = result["ms_per_step"], []
    if "llama_plain" in ms:
        rows.append("| `bench decode` | a batch-1 step, the engine against llama.cpp used plainly, both on the "
                    f"writer's own copy (above 1: the engine is faster) | {result['project_over_llama_plain']}x | "
                    f"{ms['project']} ms against {ms['llama_plain']} ms |")
    if "project_base" in ms:
        rows.append(f"| `bench decode` | the same, both on the package's Q4_1 file | "
                    f"{result['project_base_over_llama_plain_base']}x | "
                    f"{ms['project_base']} ms against {ms['llama_plain_base']} ms |")
    if "llama_plain_base" in ms:
        kind = result.get("weights", {}).get("project", {}).get("type", "GGUF")
        rows.append(f"| `bench decode` | the engine on the writer's own copy ({kind}) against llama.cpp plainly "
                    "on the package's Q4_1 file | "
                    f"{result['project_over_llama_plain_base']}x | "
                    f"{ms['project']} ms against {ms['llama_plain_base']} ms |")
    return rows


def _text(result: dict[str, Any]) -> list[str]:
    seconds, names = result["seconds_median"], ("hf_generate_float32", "llama_plain")
    shown = [k for k in names if k in seconds]
    return [f"| `bench text` | {result['candidates']} drafts x {result['new_tokens']} tokens, the engine against "
            f"HF `generate(num_return_sequences)` float32 / llama.cpp plainly, one draft after another | "
            f"{' / '.join(str(result[f'project_over_{k}']) + 'x' for k in shown)} | {seconds['project']} s "
            f"against {' / '.join(f'{seconds[k]} s' for k in shown)} |"]


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 100 else f"{ms:.0f} ms"


def _e2e(result: dict[str, Any]) -> list[str]:
    auto = result["latency"]["auto"]
    stages = result.get("stages_ms_p50", {}).get("auto", {})
    spent = "; ".join(f"{kind}: " + ", ".join(f"{k.removesuffix('_ms')} {_seconds(v)}" for k, v in ms.items())
                      for kind, ms in stages.items() if ms)
    spent = f"; p50 by stage: {spent}" if spent else ""
    return [f"| `bench e2e` | `introduce` / `project` through the embedded worker, warm, the default engine | "
            f"p50 {auto['introduce']['p50_s']} / {auto['project']['p50_s']} s | p95 {auto['introduce']['p95_s']} / "
            f"{auto['project']['p95_s']} s, {result['jobs_per_kind']} jobs each{spent} |"]


def summary(results: Path = RESULTS) -> str:
    """Every machine's table, in Markdown (empty when nothing has been measured)."""
    sections = []
    for folder in sorted(p for p in results.iterdir() if p.is_dir()) if results.is_dir() else []:
        found = {name: _read(folder, name) for name in ("decode_latency", "text_generation", "end_to_end")}
        rows = [row for name, make in (("decode_latency", _decode), ("text_generation", _text),
                                       ("end_to_end", _e2e)) if (r := found[name]) is not None for row in make(r)]
        if not rows:
            continue
        machine = next(r["machine"] for r in found.values() if r is not None)
        name = machine_name(machine) if machine.get("cpu_model") else folder.name  # older results: the folder says
        sections.append("\n".join([f"### {name} (`{folder.name}`)", "",
                                   "| benchmark | compared | ratio or time | context |", "| --- | --- | --- | --- |",
                                   *rows]))
    return "\n\n".join(sections)
