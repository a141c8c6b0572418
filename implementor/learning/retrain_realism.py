"""Retraining the realism head with the server's own words, promoted only if it tells them from drafts better.

Real texts are what members wrote: the replies of harvested pairs (after their request) and the other
harvested messages that follow one (after it, their context). The drafts are the live writer's, for the
same prompts, with the live sampling. The corpus's real texts and drafts stay in as the prior, each
weighing k / (k + n) as for the quality head, so CVs (which a server never writes) are still judged.

Candidate and live head are scored on the latest fifth of the server's texts and fresh drafts for them:
the ROC AUC of real against draft. The candidate is calibrated per task like any realism head (its
threshold lets the configured share of held-out real texts fail) and goes live only if its AUC beats
the live head's by `margin`.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from implementor.learning.retrain import LearnSpec, by_time, prior_weight
from implementor.models.common.encoder import SentenceEncoder
from implementor.models.rerank.head import PairScorer
from implementor.models.writer.drafts import generate_many, reply_prompt_for
from implementor.models.writer.engine_choice import load_engine
from implementor.models.writer.model import Writer
from implementor.store import versions
from implementor.store.datasets import PAIRS, TEXTS, harvest_dir, read_rows
from implementor.store.live import live_head
from implementor.training.metrics import roc_auc
from implementor.training.rerank.examples import PairExamples, split_by_group
from implementor.training.rerank.realism_data import writer_identity
from implementor.training.rerank.runs import calibrate_per_task, realism_prior
from implementor.training.rerank.train import HeadTrainConfig, fit_head

log = logging.getLogger(__name__)


def real_texts(spec: LearnSpec, opted_out: set[int]) -> list[dict[str, Any]]:
    """(prompt, text, at, id) of every member-written text with something before it, oldest first."""
    folder = harvest_dir(spec.learning_dir)
    rows = [{"prompt": r["request"], "text": r["reply"], "at": r["at"], "id": f"pair:{r['message_id']}"}
            for r in read_rows(folder / PAIRS) if r.get("source") != "colleague"
            and r.get("request_author") not in opted_out and r.get("reply_author") not in opted_out]
    rows += [{"prompt": r["context"], "text": r["text"], "at": r["at"], "id": f"text:{r['message_id']}"}
             for r in read_rows(folder / TEXTS) if r.get("context") and r.get("author") not in opted_out
             and r.get("context_author") not in opted_out]
    return sorted(rows, key=lambda r: r["at"])


def with_drafts(writer: Writer, engine: Any, rows: list[dict[str, Any]], seed: int) -> PairExamples:
    """The rows as real examples and one live draft per prompt as fakes, grouped by prompt (task `reply`)."""
    prompts = [reply_prompt_for(writer, r["prompt"], None) for r in rows]
    drafts = [d[0] for d in generate_many(writer, prompts, 1, writer.sampling.reply, seed, engine=engine)]
    groups = [f"reply:{r['id']}" for r in rows]
    judged = [r["prompt"] for r in rows]
    return (PairExamples(judged, [r["text"] for r in rows], [1.0] * len(rows), groups)
            + PairExamples(judged, drafts, [0.0] * len(rows), groups))


def auc(head: PairScorer, held: PairExamples) -> float:
    return round(roc_auc(head.logits(held.prompts, held.texts).tolist(), [int(t) for t in held.targets]), 4)


def retrain_realism(spec: LearnSpec, opted_out: set[int] | None = None) -> dict[str, Any]:
    """Train a candidate on the server's texts and the prior, add it as a version, promote it if it is better."""
    rows = real_texts(spec, opted_out or set())
    encoder = SentenceEncoder.load(spec.encoder, spec.device)
    live = PairScorer.load(live_head(spec.models_dir, "realism", spec.realism).path, encoder, "realism", spec.device)
    seen = live.card.get("learning", {}).get("real_texts", 0)
    if len(rows) - seen < spec.min_pairs:
        return {"retrained": False, "why": f"{len(rows) - seen} new texts; retraining waits for {spec.min_pairs}"}
    writer = Writer.load(spec.writer, spec.device)
    engine = load_engine(writer, spec.engine)
    train, held_rows = by_time(rows, spec.held_out_fraction)
    _, _, prior = realism_prior(writer, engine, spec.corpus, "train", spec.prior_pairs // 2, spec.seed, progress=False)
    prior_fit, prior_held = split_by_group(prior, spec.held_out_fraction, spec.seed)
    weight = prior_weight(spec, len(train))
    held = with_drafts(writer, engine, held_rows, spec.seed + 1)
    config = HeadTrainConfig(epochs=spec.epochs, seed=spec.seed, device=spec.device)
    candidate, report = fit_head("realism", encoder, prior.subset(prior_fit), config,
                                 with_drafts(writer, engine, train, spec.seed), weight, progress=False)
    ours, theirs = auc(candidate, held), auc(live, held)
    better = ours > theirs + spec.margin
    learning = {"real_texts": len(rows), "trained_on": len(train), "prior_weight": round(weight, 4),
                "held_out": {"texts": len(held_rows), "auc": ours}, "live_held_out": {"auc": theirs},
                "promoted": better}
    card = {"model": "realism-head", "learning": learning, "sampling": writer.sampling.to_dict(),
            "writer": {"path": str(writer.path), **writer_identity(writer)},
            "calibration": calibrate_per_task(candidate, prior.subset(prior_held) + held, spec.threshold,
                                              spec.false_rejection),
            "metrics": {k: v for k, v in report.items() if k != "history"}}
    with tempfile.TemporaryDirectory() as scratch:
        candidate.save(Path(scratch) / "head", card)
        name = versions.add(spec.models_dir, "realism", Path(scratch) / "head")
    if better:
        versions.promote(spec.models_dir, "realism", name, f"held-out AUC {ours} against {theirs}")
    log.info("realism candidate %s: AUC %s (live: %s); %s", name, ours, theirs, "promoted" if better else "kept aside")
    return {"retrained": True, "version": name, **learning}
