"""Retraining from what a server taught: a quality head on reactions, promoted only if it is better.

The candidate quality head learns two things at once:
- the harvested pairs, each with its label: the reply's reaction bin on [0, 1] (0, 1/3, 2/3, 1), or
  for the colleague's own replies the share of 👍 among 👍 and 👎; the expected rating it predicts is
  then ordinal: more reactions, higher;
- the synthetic prior (matched against mismatched corpus pairs, the head's bootstrap), so that a
  server with little history still gets a head that knows an answer from a non-answer. Each prior
  example weighs k / (k + n) for n harvested pairs (k = `prior_pseudo_count`): alone at first, a tenth
  of the say once a server has taught nine times k pairs.
The colleague's own replies are a biased sample: it posted the drafts its quality head liked best.
A share of them was posted by exploration instead (`IMPLEMENTOR_EXPLORE`, implementor/models/rerank/policy.py),
and each carries its propensity p, the probability that the policy posts that draft. Each rated
reply is weighted by 1 / p (inverse propensity scoring): a rare explored post stands for all the
drafts like it that were never shown, so the head learns from what the policy could have posted,
not only from its favourites. Weights are clipped at `MAX_IPW` (a 1-in-30 draft must not drown
the rest; the usual clipped-IPS trade of a little bias for much less variance) and normalised so
that the colleague's replies keep their mean weight of 1 next to members' pairs. Replies recorded
before propensities were logged weigh 1.
Members' choices among a reply's drafts (the draft menu; `store/preferences.py`) are the strongest
signal a member gives: two drafts of one request, compared side by side, one preferred. Each
preference becomes two pointwise examples, the chosen draft labelled 1 and the draft it replaced 0,
each weighing `PREFERENCE_WEIGHT` (2: a deliberate comparison says more than one reaction, and two
examples of one request must not outweigh a whole reaction history); both share a group, so a pair
lands on one side of the head's own validation split. They count as taught examples for the prior's
weight and towards `min_pairs`, and a member who opted out takes their choices with them.
Candidate and live head are scored on the same held-out pairs, the latest fifth by time (the future
the head will face): Spearman's rho between predicted rating and reaction bin, and the ROC AUC of
"5+ reactions" against "none". The candidate becomes a version either way, and goes live only if its
rho beats the live head's by `margin`.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from implementor.models.common.encoder import MINILM, SentenceEncoder
from implementor.models.rerank.head import PairScorer
from implementor.store import versions
from implementor.store.datasets import PAIRS, PREFERENCES, harvest_dir, read_rows
from implementor.store.live import live_head
from implementor.training.corpus.splits import BUNDLED_CORPUS
from implementor.training.metrics import roc_auc, spearman
from implementor.training.rerank.examples import PairExamples
from implementor.training.rerank.runs import quality_prior
from implementor.training.rerank.train import HeadTrainConfig, fit_head

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LearnSpec:
    learning_dir: Path
    models_dir: Path
    quality: Path | None = None  # the live head while no version is: the configured one, or the bundled one
    realism: Path | None = None  # likewise
    writer: Path | None = None  # the live writer, whose drafts the realism head must tell from members' texts
    engine: str = "auto"
    threshold: float = 0.9  # the live realism threshold, which a new realism head is calibrated for
    false_rejection: float = 0.1
    corpus: Path = BUNDLED_CORPUS
    encoder: str = MINILM
    device: str = "cpu"
    min_pairs: int = 50  # retrain only once this many pairs (texts, for realism) are new to the live version
    prior_pairs: int = 600  # corpus records for the synthetic prior
    prior_pseudo_count: int = 200
    held_out_fraction: float = 0.2
    margin: float = 0.01
    epochs: int = 80
    seed: int = 0


def label(row: dict[str, Any]) -> float:
    thumbs = row.get("thumbs_up", 0) + row.get("thumbs_down", 0)
    return row["thumbs_up"] / thumbs if thumbs else row["bin"] / 3


def by_time(rows: list[dict[str, Any]], held_out: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ordered = sorted(rows, key=lambda r: r["at"])
    cut = len(ordered) - max(1, round(len(ordered) * held_out))
    return ordered[:cut], ordered[cut:]


MAX_IPW = 10.0  # one explored rating counts at most ten times an exploited one (module docstring)


def selection_weights(rows: list[dict[str, Any]]) -> list[float]:
    """Inverse-propensity weights for the colleague's rated replies, clipped and normalised to mean 1;
    1 for members' pairs and for replies without a recorded propensity."""
    weights = [1.0] * len(rows)
    raw = {i: min(MAX_IPW, 1.0 / r["propensity"]) for i, r in enumerate(rows)
           if r.get("source") == "colleague" and r.get("propensity")}
    if raw:
        mean = sum(raw.values()) / len(raw)
        for i, weight in raw.items():
            weights[i] = weight / mean
    return weights


def harvested_examples(rows: list[dict[str, Any]]) -> PairExamples:
    return PairExamples([r["request"] for r in rows], [r["reply"] for r in rows], [label(r) for r in rows],
                        [f"harvest:{r.get('request_id', r['message_id'])}" for r in rows], selection_weights(rows))


PREFERENCE_WEIGHT = 2.0  # each side of a member's choice between two drafts (module docstring)


def preference_examples(rows: list[dict[str, Any]]) -> PairExamples:
    """A choice between two drafts as two pointwise examples: the chosen one 1, the one it replaced 0."""
    prompts = [r["request"] for r in rows for _ in (0, 1)]
    texts = [text for r in rows for text in (r["chosen"], r["shown"])]
    groups = [f"preference:{r['job_id']}:{r['when']}" for r in rows for _ in (0, 1)]
    return PairExamples(prompts, texts, [1.0, 0.0] * len(rows), groups, [PREFERENCE_WEIGHT] * (2 * len(rows)))


def joined(a: PairExamples, b: PairExamples) -> PairExamples:
    return PairExamples(a.prompts + b.prompts, a.texts + b.texts, a.targets + b.targets, a.groups + b.groups,
                        a.weights + b.weights)


def prior_weight(spec: LearnSpec, taught: int) -> float:
    """What one prior example weighs beside `taught` of the server's own (module docstring)."""
    return spec.prior_pseudo_count / (spec.prior_pseudo_count + taught)


def score(head: PairScorer, held: list[dict[str, Any]]) -> dict[str, Any]:
    """Spearman's rho with the reaction bins, and the AUC of 5+ against none, on held-out pairs."""
    predicted = head.logits([r["request"] for r in held], [r["reply"] for r in held]).tolist()
    out: dict[str, Any] = {"pairs": len(held), "spearman": round(spearman(predicted, [r["bin"] for r in held]), 4)}
    ends = [(p, r["bin"] == 3) for p, r in zip(predicted, held, strict=True) if r["bin"] in (0, 3)]
    if 0 < sum(top for _, top in ends) < len(ends):
        out["auc_5plus_vs_none"] = round(roc_auc([p for p, _ in ends], [int(t) for _, t in ends]), 4)
    return out


def live_quality(spec: LearnSpec, encoder: SentenceEncoder) -> tuple[PairScorer, dict[str, Any]]:
    """The quality head a candidate must beat: the one workers serve (`live.py`)."""
    head = PairScorer.load(live_head(spec.models_dir, "quality", spec.quality).path, encoder, "quality", spec.device)
    return head, head.card


def retrain_quality(spec: LearnSpec, opted_out: set[int] | None = None) -> dict[str, Any]:
    """Train a candidate from the harvest, add it as a version, promote it if it beats the live head."""
    gone = opted_out or set()
    rows = [r for r in read_rows(harvest_dir(spec.learning_dir) / PAIRS)
            if r.get("request_author") not in gone and r.get("reply_author") not in gone]
    chosen = [r for r in read_rows(harvest_dir(spec.learning_dir) / PREFERENCES) if int(r["who"]) not in gone]
    encoder = SentenceEncoder.load(spec.encoder, spec.device)
    live, live_card = live_quality(spec, encoder)
    seen = live_card.get("learning", {})
    new = len(rows) - seen.get("harvested_pairs", 0) + len(chosen) - seen.get("preferences", 0)
    if new < spec.min_pairs:
        return {"retrained": False, "why": f"{new} new pairs; retraining waits for {spec.min_pairs}",
                "preferences": len(chosen)}
    train, held = by_time(rows, spec.held_out_fraction)
    _, prior = quality_prior(spec.corpus, spec.prior_pairs // 2, spec.seed)
    config = HeadTrainConfig(epochs=spec.epochs, seed=spec.seed, device=spec.device)
    taught = joined(harvested_examples(train), preference_examples(chosen))
    candidate, report = fit_head("quality", encoder, prior, config, taught,
                                 prior_weight(spec, len(train) + len(chosen)), progress=False)
    ours, theirs = score(candidate, held), score(live, held)
    better = ours["spearman"] > theirs["spearman"] + spec.margin
    explored = sum(bool(r.get("explored")) for r in train if r.get("source") == "colleague")
    learning = {"harvested_pairs": len(rows), "trained_on": len(train), "held_out": ours, "live_held_out": theirs,
                "colleague_ratings": sum(r.get("source") == "colleague" for r in train), "explored_ratings": explored,
                "preferences": len(chosen),
                "prior_weight": round(prior_weight(spec, len(train)), 4),
                "promoted": better}
    with tempfile.TemporaryDirectory() as scratch:
        candidate.save(Path(scratch) / "head", {"model": "quality-head", "learning": learning,
                                                "metrics": {k: v for k, v in report.items() if k != "history"}})
        name = versions.add(spec.models_dir, "quality", Path(scratch) / "head")
    if better:
        versions.promote(spec.models_dir, "quality", name, f"held-out Spearman {ours['spearman']} against "
                                                           f"{theirs['spearman']}")
    log.info("quality candidate %s: %s (live: %s); %s", name, ours, theirs, "promoted" if better else "kept aside")
    return {"retrained": True, "version": name, **learning}
