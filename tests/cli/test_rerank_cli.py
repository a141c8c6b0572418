"""Training the heads and reranking through the commands, on a small BERT and the micro writer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from implementor.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def heads(tmp_path_factory: pytest.TempPathFactory, tiny_writer_dir: Path, tiny_bert_dir: Path,
          mini_corpus: Path) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("heads")
    env = {"IMPLEMENTOR_ENCODER": str(tiny_bert_dir), "IMPLEMENTOR_WRITER_MODEL": str(tiny_writer_dir)}
    realism = runner.invoke(app, ["train", "realism", "--out", str(out / "realism"), "--data", str(mini_corpus),
                                  "--prompts", "10", "--epochs", "5", "--device", "cpu"], env=env)
    assert realism.exit_code == 0, realism.output
    feedback = out / "feedback.jsonl"
    feedback.write_text("".join(json.dumps({"request": f"Can you help with audit number {i}?",
                                            "reply": "Yes." if i % 2 else "I can run that audit next week.",
                                            "rating": 1 + (i % 5)}) + "\n" for i in range(40)))
    quality = runner.invoke(app, ["train", "quality", "--out", str(out / "quality"), "--data", str(mini_corpus),
                                  "--prompts", "10", "--epochs", "5", "--feedback", str(feedback),
                                  "--drafts", str(out / "realism" / "fakes.jsonl"), "--device", "cpu"], env=env)
    assert quality.exit_code == 0, quality.output
    return {"realism": out / "realism", "quality": out / "quality", "env": env}  # type: ignore[dict-item]


def test_the_realism_card_records_the_writer_and_its_sampling(heads: dict[str, Path], tiny_writer_dir: Path) -> None:
    card = json.loads((heads["realism"] / "card.json").read_text())
    writer_card = json.loads((tiny_writer_dir / "card.json").read_text())
    assert card["sampling"] == writer_card["sampling"]
    assert card["writer"]["sha256"] == writer_card["sha256"]["model.safetensors"]
    assert card["data"]["fakes"] == 20 and "auc" in card["metrics"]["validation"]


def test_the_threshold_is_calibrated_on_the_validation_splits_real_texts(heads: dict[str, Path],
                                                                          mini_corpus: Path) -> None:
    from implementor.training.corpus.splits import load_split

    calibration = json.loads((heads["realism"] / "card.json").read_text())["calibration"]
    validation = load_split(mini_corpus, "validation")
    for task in ("cv", "reply"):  # every real text of another split, not the few held-out prompts of this one
        assert calibration[task]["real_texts"] == sum(r.task == task for r in validation) > 5
        assert calibration[task]["drafts"] < 10  # the held-out drafts of the 10 training prompts


def test_the_quality_card_reports_feedback(heads: dict[str, Path]) -> None:
    card = json.loads((heads["quality"] / "card.json").read_text())
    assert card["data"]["ratings"] == 40
    assert "feedback_spearman" in card["metrics"]


def test_reply_explain_prints_the_scores_and_the_choice(heads: dict, tiny_writer_dir: Path) -> None:  # type: ignore[type-arg]
    env = {**heads["env"], "IMPLEMENTOR_REALISM_MODEL": str(heads["realism"]),
           "IMPLEMENTOR_QUALITY_MODEL": str(heads["quality"]), "IMPLEMENTOR_CANDIDATES": "4"}
    result = runner.invoke(app, ["reply", "Could someone help us plan a spring campaign?", "--explain", "--seed", "1"],
                           env=env)
    assert result.exit_code == 0, result.output
    assert "P(real)  quality  verdict" in result.output
    table = result.output.split("--- chosen")[0]
    assert sum(line[1:3].strip().isdigit() for line in table.splitlines()) == 4
    assert "--- chosen: #" in result.output


def test_a_head_for_another_encoder_is_refused(heads: dict, tiny_writer_dir: Path) -> None:  # type: ignore[type-arg]
    env = {"IMPLEMENTOR_WRITER_MODEL": str(tiny_writer_dir), "IMPLEMENTOR_REALISM_MODEL": str(heads["realism"]),
           "IMPLEMENTOR_QUALITY_MODEL": str(heads["quality"])}  # encoder left at all-MiniLM-L6-v2
    result = runner.invoke(app, ["reply", "Could someone help us plan a spring campaign?", "--explain"], env=env)
    assert result.exit_code != 0
    assert "different model" in str(result.exception)


def promote_a_noted_copy(head: Path, models_dir: Path, kind: str) -> Path:
    """A copy of `head` promoted as the live `kind` version, its card marked so that it can be told apart."""
    import shutil

    from implementor.store import versions

    promoted = models_dir.parent / f"promoted-{kind}"
    shutil.copytree(head, promoted)
    card = json.loads((promoted / "card.json").read_text())
    (promoted / "card.json").write_text(json.dumps({**card, "note": "the promoted one"}))
    name = versions.add(models_dir, kind, promoted)
    versions.promote(models_dir, kind, name, "test")
    return models_dir / kind / name


def test_explain_runs_the_pipeline_a_worker_serves(heads: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    from implementor.cli.text_commands import explain_pipeline
    from implementor.config.settings import Settings

    live = promote_a_noted_copy(heads["quality"], tmp_path / "models", "quality")
    settings = Settings(encoder=heads["env"]["IMPLEMENTOR_ENCODER"], realism_model=heads["realism"],
                        quality_model=heads["quality"], models_dir=tmp_path / "models", writer_engine="torch",
                        realism_threshold=0.42)
    pipeline = explain_pipeline(settings, Path(heads["env"]["IMPLEMENTOR_WRITER_MODEL"]), "cpu", 3)
    assert pipeline.reranker.quality.card.get("note") == "the promoted one"  # not IMPLEMENTOR_QUALITY_MODEL's
    assert pipeline.reranker.quality.path == live
    assert pipeline.reranker.realism.card == json.loads((heads["realism"] / "card.json").read_text())  # none promoted
    assert pipeline.reranker.policy.explore == 0.0 and pipeline.reranker.policy.threshold == 0.42
    assert pipeline.engine.name == "torch" and pipeline.candidates == 3


@pytest.mark.parametrize("command", [["reply", "Could someone help us plan a spring campaign?"],
                                     ["cv", "--name", "Ada Lovelace", "--title", "Data Scientist"]])
def test_explain_drafts_and_judges_in_the_pipeline(command: list[str], heads: dict, tmp_path: Path,  # type: ignore[type-arg]
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`--explain` reports what `ColleaguePipeline` ranked, with the live heads: not a second copy of it."""
    from implementor.models.pipeline import ColleaguePipeline

    promote_a_noted_copy(heads["quality"], tmp_path / "models", "quality")
    loaded: list[tuple[Any, ColleaguePipeline]] = []
    ranked: list[Any] = []
    real_load = ColleaguePipeline.load

    def spy_load(spec: Any) -> ColleaguePipeline:
        pipeline = real_load(spec)
        loaded.append((spec, pipeline))
        rerank_many = pipeline.reranker.rerank_many

        def recorded(*args: Any, **kwargs: Any) -> Any:
            ranked.extend(out := rerank_many(*args, **kwargs))
            return out

        pipeline.reranker.rerank_many = recorded  # type: ignore[method-assign]
        return pipeline

    monkeypatch.setattr(ColleaguePipeline, "load", spy_load)
    env = {**heads["env"], "IMPLEMENTOR_REALISM_MODEL": str(heads["realism"]), "IMPLEMENTOR_WRITER_ENGINE": "torch",
           "IMPLEMENTOR_QUALITY_MODEL": str(heads["quality"]), "IMPLEMENTOR_MODELS_DIR": str(tmp_path / "models")}
    result = runner.invoke(app, [*command, "--explain", "--n", "3", "--seed", "1"], env=env)
    assert result.exit_code == 0, result.output
    [(spec, pipeline)] = loaded
    assert spec.engine == "torch" and spec.candidates == 3 and spec.explore == 0.0
    assert pipeline.reranker.quality.card.get("note") == "the promoted one"
    [chosen] = ranked
    assert chosen.table() in result.output
    assert f"--- chosen: #{chosen.index + 1} " in result.output


def test_eval_rerank_drafts_the_live_numbers_and_reports_what_a_member_would_get(
        heads: dict, tiny_writer_dir: Path, mini_corpus: Path, tmp_path: Path) -> None:  # type: ignore[type-arg]
    import shutil

    writer = tmp_path / "writer"
    shutil.copytree(tiny_writer_dir, writer)
    card = json.loads((writer / "card.json").read_text())
    card.setdefault("sampling", {}).setdefault("cv", {})["candidates"] = 2
    card["sampling"].setdefault("reply", {})["candidates"] = 3
    (writer / "card.json").write_text(json.dumps(card))
    out = tmp_path / "eval_rerank.json"
    result = runner.invoke(app, ["eval", "rerank", "--writer", str(writer), "--realism", str(heads["realism"]),
                                 "--quality", str(heads["quality"]), "--judge", str(heads["realism"]),
                                 "--data", str(mini_corpus), "--out", str(out), "--device", "cpu"],
                           env={**heads["env"], "IMPLEMENTOR_REALISM_THRESHOLD": "0.5"})
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["lift"]["candidates_per_prompt"] == {"cv": 2, "reply": 3}
    for task in ("cv", "reply"):
        row = report["realism_per_task"][task]
        assert row["prompts"] > 0
        # A prompt passes if its best draft does: never below the per-draft share, never above 1.
        assert row["draft_pass_rate"] <= row["prompts_with_a_passing_draft"] <= 1.0
    subject = report["lift"]["reply_mentions_subject"]
    assert subject["replies"] > 0 and 0.0 <= subject["chosen"] <= 1.0
