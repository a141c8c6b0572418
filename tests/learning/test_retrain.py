"""Retraining from a server's history: the quality head learns what the server rewards, and only a better
candidate goes live.

The synthetic server: requests and topical replies from the corpus, where a reply that gives an
estimate of the work ("about 3 days") draws 5+ reacting members and one that does not draws none
(with some noise). The synthetic-only head (the bundled one, trained on matched against mismatched
pairs) cannot know that rule: every reply here is on topic. The retrained head must, on the latest
fifth of the history (time-ordered), by at least 0.2 of Spearman's rho.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from implementor.contracts.records import PairRecord
from implementor.learning.retrain import MAX_IPW, LearnSpec, retrain_quality, selection_weights
from implementor.store import versions
from implementor.store.datasets import PAIRS, harvest_dir
from implementor.training.corpus.splits import BUNDLED_CORPUS, load_split

ESTIMATE = "My estimate is about {n} days of work, including a review with you."
CLOSING = "Happy to help however I can."


def history(rows: int, seed: int = 0, inverted_until: float = 0.0) -> list[dict[str, Any]]:
    """Harvested pairs whose reactions follow the rule; the first `inverted_until` share follows its opposite."""
    rng = random.Random(seed)
    pairs = [r for r in load_split(BUNDLED_CORPUS, "train") if isinstance(r, PairRecord)]
    out = []
    for i, record in enumerate(rng.sample(pairs, rows)):
        estimate = rng.random() < 0.5
        body = " ".join(record.reply.split(". ")[:2]).rstrip(".") + ". "
        reply = body + (ESTIMATE.format(n=rng.randint(2, 9)) if estimate else CLOSING)
        rewarded = estimate != (i < inverted_until * rows)
        bin_ = (3 if rng.random() < 0.85 else 2) if rewarded else (0 if rng.random() < 0.85 else 1)
        out.append({"task": "reply", "request": record.request, "reply": reply, "source": "reply",
                    "message_id": 10_000 + i, "request_id": 20_000 + i, "request_author": 100 + i % 7,
                    "reply_author": 200 + i % 11, "at": 1_700_000_000 + 3600 * i, "reactors": [0, 1, 3, 6][bin_],
                    "bin": bin_})
    return out


def write_history(learning_dir: Path, rows: list[dict[str, Any]]) -> None:
    folder = harvest_dir(learning_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PAIRS).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def spec(tmp_path: Path) -> LearnSpec:
    return LearnSpec(learning_dir=tmp_path / "learning", models_dir=tmp_path / "models", min_pairs=50, epochs=40,
                     prior_pairs=300)


def test_the_retrained_head_learns_the_servers_rule_and_is_promoted(spec: LearnSpec) -> None:
    write_history(spec.learning_dir, history(400))
    report = retrain_quality(spec)
    ours, synthetic_only = report["held_out"], report["live_held_out"]
    # The figures docs/learning.md quotes.
    print(f"\nheld-out (80 latest pairs): retrained {ours}, synthetic-only {synthetic_only}")
    assert ours["spearman"] >= synthetic_only["spearman"] + 0.2
    assert ours["auc_5plus_vs_none"] > synthetic_only["auc_5plus_vs_none"]
    assert report["promoted"] and versions.current(spec.models_dir, "quality") == report["version"] == "v0001"
    card = json.loads((spec.models_dir / "quality" / "v0001" / "card.json").read_text())
    assert card["learning"]["trained_on"] == 320 and card["learning"]["held_out"] == ours

    again = retrain_quality(spec)  # nothing new since: no second version
    assert again["retrained"] is False and versions.versions(spec.models_dir, "quality") == ["v0001"]


def test_a_candidate_worse_on_held_out_is_kept_but_not_promoted(spec: LearnSpec) -> None:
    # The server changed its mind: the older four fifths reward the opposite of what the latest fifth does.
    write_history(spec.learning_dir, history(400, seed=1, inverted_until=0.8))
    report = retrain_quality(spec)
    assert report["held_out"]["spearman"] < report["live_held_out"]["spearman"]
    assert not report["promoted"] and versions.current(spec.models_dir, "quality") is None
    assert versions.versions(spec.models_dir, "quality") == ["v0001"]  # on record, for an operator to look at


def test_opted_out_members_are_left_out_of_retraining(spec: LearnSpec) -> None:
    rows = history(120)
    write_history(spec.learning_dir, rows)
    gone = {100, 101, 102, 103, 104, 105}  # six of the seven askers
    report = retrain_quality(spec, opted_out=gone)
    kept = [r for r in rows if r["request_author"] not in gone]
    assert report["retrained"] is False and f"{len(kept)} new pairs" in report["why"]


def colleague_rows(rows: list[dict[str, Any]], explored_every: int = 4) -> list[dict[str, Any]]:
    """The same pairs as the colleague's own rated replies: every `explored_every`-th posted by exploration."""
    out = []
    for i, row in enumerate(rows):
        explored = i % explored_every == 0
        out.append({**row, "source": "colleague", "thumbs_up": int(row["bin"] >= 2), "thumbs_down": int(row["bin"] < 2),
                    "propensity": 0.025 if explored else 0.9, "explored": explored})
    return out


def test_selection_weights_are_clipped_inverse_propensities_with_mean_one() -> None:
    rows = [{"source": "colleague", "propensity": 0.9}, {"source": "colleague", "propensity": 0.9},
            {"source": "colleague", "propensity": 0.05},  # explored: 1 / 0.05 = 20, clipped to MAX_IPW
            {"source": "colleague", "propensity": None},  # recorded before propensities were
            {"source": "reply"}]  # a member's reply to a member: no selection to correct
    weights = selection_weights(rows)
    raw = [1 / 0.9, 1 / 0.9, MAX_IPW]
    assert weights[:3] == pytest.approx([w / (sum(raw) / 3) for w in raw]) and weights[3:] == [1.0, 1.0]
    assert weights[2] / weights[0] == pytest.approx(MAX_IPW * 0.9)  # the explored rating counts 9 times as much
    assert sum(weights[:3]) == pytest.approx(3.0)  # the colleague's replies keep their share of the loss


def test_retraining_counts_the_ratings_that_came_from_exploration(spec: LearnSpec) -> None:
    rows = history(120) + colleague_rows(history(60, seed=2))
    for i, row in enumerate(rows):  # one timeline
        row["at"], row["message_id"], row["request_id"] = 1_700_000_000 + 60 * i, 30_000 + i, 40_000 + i
    write_history(spec.learning_dir, rows)
    report = retrain_quality(replace(spec, epochs=3))
    train = sorted(rows, key=lambda r: r["at"])[:report["trained_on"]]
    assert report["colleague_ratings"] == sum(r["source"] == "colleague" for r in train) > 0
    assert report["explored_ratings"] == sum(bool(r.get("explored")) for r in train) > 0


def test_members_choices_among_drafts_teach_the_quality_head(spec: LearnSpec, tmp_path: Path) -> None:
    """The reactions here reward replies without an estimate; 150 members' choices prefer the draft with one.
    Retrained with the choices, the head ranks the estimate first; without them (the same history), it
    does not: the test fails if the preferences were ignored."""
    from implementor.learning.retrain import PREFERENCE_WEIGHT
    from implementor.models.common.encoder import SentenceEncoder
    from implementor.models.rerank.head import PairScorer
    from implementor.store.datasets import PREFERENCES

    rng = random.Random(5)
    pairs = [r for r in load_split(BUNDLED_CORPUS, "train") if isinstance(r, PairRecord)]
    choices = []
    for i, record in enumerate(rng.sample(pairs, 150)):
        body = " ".join(record.reply.split(". ")[:2]).rstrip(".") + ". "
        choices.append({"key": f"job{i}:{i}", "job_id": f"job{i}", "who": 300 + i % 5, "request": record.request,
                        "shown": body + CLOSING, "chosen": body + ESTIMATE.format(n=rng.randint(2, 9)), "when": i})
    fresh = rng.sample([r for r in load_split(BUNDLED_CORPUS, "validation") if isinstance(r, PairRecord)], 40)

    def estimate_first(with_choices: bool, where: Path) -> float:
        run = replace(spec, learning_dir=where / "learning", models_dir=where / "models", epochs=20)
        write_history(run.learning_dir, history(80, seed=3, inverted_until=1.0))  # reactions reward no estimate
        if with_choices:
            (harvest_dir(run.learning_dir) / PREFERENCES).write_text("".join(json.dumps(c) + "\n" for c in choices))
        report = retrain_quality(run)
        assert report["retrained"] and report["preferences"] == (150 if with_choices else 0)
        head = PairScorer.load(run.models_dir / "quality" / report["version"], SentenceEncoder.load(run.encoder),
                               "quality", "cpu")
        bodies = [" ".join(r.reply.split(". ")[:2]).rstrip(".") + ". " for r in fresh]
        requests = [r.request for r in fresh]
        with_estimate = head.logits(requests, [b + ESTIMATE.format(n=4) for b in bodies]).tolist()
        without = head.logits(requests, [b + CLOSING for b in bodies]).tolist()
        return sum(a > b for a, b in zip(with_estimate, without, strict=True)) / len(fresh)

    taught, untaught = estimate_first(True, tmp_path / "taught"), estimate_first(False, tmp_path / "untaught")
    print(f"\nestimate first: {taught:.2f} with the choices (weight {PREFERENCE_WEIGHT}), {untaught:.2f} without")
    assert taught >= 0.8 and untaught <= 0.5
