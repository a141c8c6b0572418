"""Data for the realism discriminator: real corpus texts against the writer's own drafts.

Real texts are the corpus's CVs and replies, each with its prompt (name and title, or the request).
Fakes are drafts the current writer makes for the same prompts, sampled with exactly the settings
in its model card, the ones used live. The reddit bot's discriminator was trained on fakes sampled
one way and then judged drafts sampled another; `sampling_mismatch` catches that, and the reranker
logs it.

Drafting is the slow part, so fakes are cached as JSONL next to the checkpoint, together with the
writer's checksum and settings; a rerun reuses them only if both still match.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from implementor.contracts.records import CVRecord, PairRecord, Record
from implementor.models.writer.drafts import CV_RULES, Rules, generate_many, reply_prompt_for
from implementor.models.writer.engine import Engine
from implementor.models.writer.model import Writer
from implementor.models.writer.pruning import Prune
from implementor.training.rerank.examples import PairExamples, group_of, prompt_for_judge, text_of

log = logging.getLogger(__name__)


def pick_prompts(records: list[Record], per_task: int, seed: int) -> list[Record]:
    """Up to `per_task` CVs and `per_task` pairs, chosen at random but reproducibly."""
    rng = random.Random(seed)
    cvs = [r for r in records if isinstance(r, CVRecord)]
    pairs = [r for r in records if isinstance(r, PairRecord)]
    return rng.sample(cvs, min(per_task, len(cvs))) + rng.sample(pairs, min(per_task, len(pairs)))


def writer_identity(writer: Writer) -> dict[str, Any]:
    return {"sha256": writer.weights_sha256, "sampling": writer.sampling.to_dict()}


def model_prompt(writer: Writer, record: Record) -> str:
    """The prompt the writer drafts from for a record (its persona too, for a writer that reads one)."""
    if isinstance(record, CVRecord):
        return writer.format.cv(record.name, record.title)
    return reply_prompt_for(writer, record.request, record.persona)


def draft_records(writer: Writer, records: Sequence[Record], n: int, seed: int | None, engine: Engine | None = None,
                  batch: int = 16, progress: bool = False,
                  prune_cvs: Callable[[list[CVRecord]], Prune | None] | None = None) -> list[list[str]]:
    """n drafts for every record's prompt, with the live settings and rules for its task (CVs as the pipeline
    drafts them), `batch` prompts per call; `prune_cvs` gives a call's CVs their prune, as the worker's."""
    out: list[list[str]] = [[] for _ in records]
    for task, kind, what in (("cv", CVRecord, "CVs"), ("reply", PairRecord, "replies")):
        index = [i for i, r in enumerate(records) if isinstance(r, kind)]
        if not index:
            continue  # no empty progress bar
        bar = tqdm(range(0, len(index), batch), desc=f"drafting {what}", unit="batch", disable=not progress)
        for start in bar:
            chunk = index[start : start + batch]
            cvs = [r for r in (records[i] for i in chunk) if isinstance(r, CVRecord)]
            drafts = generate_many(writer, [model_prompt(writer, records[i]) for i in chunk], n,
                                   writer.sampling.for_task(task), None if seed is None else seed + start,
                                   engine=engine, rules=CV_RULES if task == "cv" else Rules(),
                                   prune=prune_cvs(cvs) if prune_cvs is not None and cvs else None)
            for i, texts in zip(chunk, drafts, strict=True):
                out[i] = texts
    return out


def generate_fakes(writer: Writer, records: list[Record], per_prompt: int, seed: int, cache: Path | None = None,
                   progress: bool = True, engine: Engine | None = None) -> list[dict[str, str]]:
    """Drafts for every record's prompt: [{"group", "prompt", "text"}]; cached in `cache` if given."""
    identity = writer_identity(writer)
    key = {"writer": identity, "per_prompt": per_prompt, "seed": seed, "prompts": len(records)}
    if cache is not None and cache.exists():
        lines = cache.read_text(encoding="utf-8").splitlines()
        if lines and json.loads(lines[0]) == key:
            log.info("reusing %d cached drafts from %s", len(lines) - 1, cache)
            return [json.loads(line) for line in lines[1:]]
        log.info("%s was made by another writer or with other settings; drafting again", cache)
    drafts = draft_records(writer, records, per_prompt, seed, engine, progress=progress)
    fakes = [{"group": group_of(record), "prompt": prompt_for_judge(record), "text": text}
             for record, texts in zip(records, drafts, strict=True) for text in texts]
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text("\n".join(json.dumps(x) for x in [key, *fakes]) + "\n", encoding="utf-8")
    return fakes


def realism_examples(records: list[Record], fakes: list[dict[str, str]]) -> PairExamples:
    """Real texts (target 1) and drafts (target 0) for the same prompts, grouped by prompt."""
    real = PairExamples([prompt_for_judge(r) for r in records], [text_of(r) for r in records],
                        [1.0] * len(records), [group_of(r) for r in records])
    fake = PairExamples([f["prompt"] for f in fakes], [f["text"] for f in fakes], [0.0] * len(fakes),
                        [f["group"] for f in fakes])
    return real + fake
