"""`implementor eval sampling`: settings tried on the micro writer against a fresh judge (small BERT)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from implementor.cli.main import app

runner = CliRunner()


def test_a_probe_row_drafts_with_the_settings_given(tiny_writer_dir: Path, tiny_bert_dir: Path, mini_corpus: Path,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "probe.jsonl"
    args = ["eval", "sampling", "--model", str(tiny_writer_dir), "--data", str(mini_corpus), "--prompts", "10",
            "--drafts", "2", "--out", str(out), "--device", "cpu"]
    env = {"IMPLEMENTOR_ENCODER": str(tiny_bert_dir)}
    for temperature in ("0.5", "1.2"):
        result = runner.invoke(app, [*args, "--temperature", temperature, "--top-p", "0.9"], env=env)
        assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2  # appended, one row per run
    for row, temperature in zip(rows, (0.5, 1.2), strict=True):
        for task in ("cv", "reply"):
            assert row["sampling"][task]["temperature"] == temperature and row["sampling"][task]["top_p"] == 0.9
        assert set(row["auc"]) == {"cv", "reply"} and all(0.0 <= v <= 1.0 for v in row["auc"].values())
        assert 0 < row["reply_drafts"] <= 10 * 2 and 0 <= row["subject_mention"] <= 1
    # The hotter setting drafts other texts from the same seed.
    assert rows[0]["invented_cv"] != rows[1]["invented_cv"] or rows[0]["distinct_2"] != rows[1]["distinct_2"]


def test_a_setting_out_of_range_is_one_clear_line(tiny_writer_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "sampling", "--model", str(tiny_writer_dir), "--top-p", "1.5",
                                 "--out", str(tmp_path / "p.jsonl"), "--device", "cpu"])
    assert result.exit_code != 0
    assert "top_p" in str(result.exception) and not (tmp_path / "p.jsonl").exists()
