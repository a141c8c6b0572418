"""Judging the writer: does it model held-out text, write whole CVs, say new things, vary, stay on topic?

- perplexity on the test split, next to a unigram model's (token frequencies from the training
  split, add-one smoothed): a language model that beats word counts by a wide margin has learnt
  more than the vocabulary;
- CV completeness: the share of generated CVs that parse into every section (implementor.contracts.cv.parse_cv);
- novelty: the share of generated word 8-grams that never occur in the training corpus;
- distinctness among the candidates of one prompt (distinct bigrams over all bigrams, and the share
  of candidates that are not exact repeats);
- topicality: the share of replies that mention the request's subject (most of its content words);
- character (`character.py`): skills that fit the title, replies that sound like their colleague's CV,
  and how often a CV repeats a skill;
- invented words: the share of words found in no English dictionary (pyspellchecker's), nor in the
  prompt, nor anywhere in the training corpus; the test split's real texts are scored alike, as the
  reference (names and trade words a dictionary lacks make it about 0.5%, not 0).

The prompts come from the test split, whose occupations and tasks the model never trained on.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from implementor.contracts.cv import parse_cv
from implementor.contracts.records import CVRecord, PairRecord
from implementor.models.common.encoder import MINILM, SentenceEncoder
from implementor.models.writer.drafts import CV_RULES, draft_replies, generate_many
from implementor.models.writer.engine import Engine
from implementor.models.writer.model import Writer
from implementor.models.writer.torch_engine import TorchEngine
from implementor.training.corpus.splits import load_split
from implementor.training.writer.character import persona_consistency, repeated_bullet_rate, skills_fit
from implementor.training.writer.train import encode, mean_loss, pack

log = logging.getLogger(__name__)

CV_BATCH = 8  # CV prompts drafted together
# Every draft as the writer ends it (stopped and cut at a heading out of order), none refused: the
# parse rate is the writer's own, per draft.
DRAFTED_CVS = replace(CV_RULES, accept=None)
BARS = {"perplexity_ratio": 5.0, "cv_parse_rate": 0.9, "subject_mention_rate": 0.8}
_STOP = {"with", "from", "into", "onto", "about", "their", "that", "this", "other", "using", "such", "under"}
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class TextEvalSpec:
    cv_prompts: int = 50
    cv_candidates: int = 4  # 200 CVs
    reply_prompts: int = 25
    reply_candidates: int = 8  # 200 replies
    seed: int = 0
    perplexity: bool = True  # minutes of forward passes on a CPU; sampling settings do not change it


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def ngrams(tokens: list[str], n: int) -> Iterable[tuple[str, ...]]:
    return zip(*(tokens[i:] for i in range(n)), strict=False)


def unigram_cross_entropy(train_docs: list[list[int]], targets: torch.Tensor, vocab: int) -> float:
    """Nats per token of an add-one-smoothed unigram model on the target tokens."""
    counts = torch.bincount(torch.tensor([t for doc in train_docs for t in doc]), minlength=vocab).double() + 1.0
    log_probs = counts.log() - counts.sum().log()
    return float(-log_probs[targets.flatten()].mean())


def perplexities(writer: Writer, corpus: Path, batch_size: int = 8) -> dict[str, float]:
    train_docs = encode(load_split(corpus, "train"), writer.tokenizer, writer.format)
    # Blocks as long as the writer trained on: a pretrained base's context (8k for SmolLM2) would only cost memory.
    block = min(writer.context, int(writer.card.get("train_config", {}).get("block_size") or writer.context))
    test_blocks = pack(encode(load_split(corpus, "test"), writer.tokenizer, writer.format), block)
    model_nll = mean_loss(writer.model, test_blocks, batch_size, writer.device)
    unigram_nll = unigram_cross_entropy(train_docs, test_blocks[:, 1:], len(writer.tokenizer))
    return {
        "model": round(math.exp(model_nll), 3),
        "unigram": round(math.exp(unigram_nll), 3),
        "ratio": round(math.exp(unigram_nll - model_nll), 2),
        "test_tokens": int(test_blocks[:, 1:].numel()),
    }


_LETTERS = re.compile(r"[a-z]+")


def training_texts(corpus: Path) -> list[str]:
    """Every text of the training split (CV bodies, requests with their replies): what the writer has read."""
    return [r.body if isinstance(r, CVRecord) else f"{r.request} {r.reply}" for r in load_split(corpus, "train")]


def reply_context(pair: PairRecord) -> str:
    """What a reply may take words from without inventing them: its request and its colleague's persona."""
    return f"{pair.request} {pair.persona.line() if pair.persona else ''}"


def corpus_vocabulary(texts: Iterable[str]) -> set[str]:
    return {w for text in texts for w in _LETTERS.findall(text.lower())}


def invented_word_rate(texts: Iterable[tuple[str, str]], known: set[str]) -> float:
    """Share of the words of (prompt, text) pairs that are in neither `known`, a dictionary, nor the prompt."""
    from spellchecker import SpellChecker

    dictionary = SpellChecker()
    total = invented = 0
    for prompt, text in texts:
        allowed = known | set(_LETTERS.findall(prompt.lower()))
        found = _LETTERS.findall(text.lower())
        total += len(found)
        unknown = dictionary.unknown({w for w in found if w not in allowed})
        invented += sum(w in unknown for w in found)
    return invented / max(1, total)


def mentions_subject(reply: str, subject: str) -> bool:
    """True if the reply contains at least half of the subject's content words (4+ letters)."""
    content = {w for w in words(subject) if len(w) >= 4 and w not in _STOP} or set(words(subject))
    return len(content & set(words(reply))) * 2 >= len(content)


def distinctness(candidates: list[str]) -> dict[str, float]:
    bigrams = [g for c in candidates for g in ngrams(words(c), 2)]
    unique = {" ".join(c.lower().split()) for c in candidates}
    return {"distinct_2": len(set(bigrams)) / max(1, len(bigrams)), "unique_share": len(unique) / len(candidates)}


def novelty(generated: list[str], training_texts: Iterable[str], n: int = 8) -> float:
    seen = {g for text in training_texts for g in ngrams(words(text), n)}
    grams = [g for text in generated for g in ngrams(words(text), n)]
    return sum(g not in seen for g in grams) / max(1, len(grams))


def _draft_all(writer: Writer, test: list[Any], spec: TextEvalSpec, engine: Engine | None, progress: bool
               ) -> tuple[list[tuple[str, str, str]], list[tuple[PairRecord, list[str]]]]:
    """CVs for test titles under made-up names, and replies to test requests in their persona's voice."""
    from faker import Faker

    cv_titles = list(dict.fromkeys(r.title for r in test if isinstance(r, CVRecord)))
    pairs = [r for r in test if isinstance(r, PairRecord) and r.subject][: spec.reply_prompts]
    fake = Faker("en_GB")
    fake.seed_instance(spec.seed)
    bar = tqdm(total=spec.cv_prompts + len(pairs), desc="eval text", unit="prompt", disable=not progress)
    cvs: list[tuple[str, str, str]] = []
    people = [(fake.name(), cv_titles[i % len(cv_titles)]) for i in range(spec.cv_prompts)]
    for start in range(0, len(people), CV_BATCH):  # several prompts per engine call, as a worker batches jobs
        batch = people[start : start + CV_BATCH]
        drafted = generate_many(writer, [writer.format.cv(n, t) for n, t in batch], spec.cv_candidates,
                                writer.sampling.cv, spec.seed + start, engine=engine, rules=DRAFTED_CVS)
        cvs += [(name, title, body) for (name, title), bodies in zip(batch, drafted, strict=True) for body in bodies]
        bar.update(len(batch))
    replies: list[tuple[PairRecord, list[str]]] = []
    for i, pair in enumerate(pairs):
        drafts = draft_replies(writer, pair.request, spec.reply_candidates, spec.seed + i, persona=pair.persona,
                               engine=engine)
        replies.append((pair, drafts))
        bar.update()
    bar.close()
    return cvs, replies


def _in_character(test: list[Any], cvs: list[tuple[str, str, str]], replies: list[tuple[PairRecord, list[str]]],
                  encoder: SentenceEncoder) -> dict[str, Any]:
    real_cvs = [r for r in test if isinstance(r, CVRecord)]
    out: dict[str, Any] = {"repeated_skill_rate": round(repeated_bullet_rate([b for *_, b in cvs]), 3)}
    with_persona = [(p, d[0]) for p, d in replies if d and p.persona is not None]
    for name, measure in (("skills_fit", lambda: skills_fit(encoder, real_cvs, [(t, b) for _, t, b in cvs])),
                          ("persona_consistency", lambda: persona_consistency(encoder, with_persona, real_cvs))):
        try:
            out[name] = measure()
        except ValueError as exc:  # too few prompts for this measure: say so rather than guess
            out[name] = {"skipped": str(exc)}
    return out


def _invented(test: list[Any], training: list[str], cvs: list[tuple[str, str, str]],
              replies: list[tuple[PairRecord, str]]) -> dict[str, float]:
    """Invented words in the drafts, and in the test split's real texts for reference."""
    known = corpus_vocabulary(training)
    real_cvs = [(f"{r.name} {r.title}", r.body) for r in test if isinstance(r, CVRecord)]
    real_replies = [(reply_context(r), r.reply) for r in test if isinstance(r, PairRecord)]
    asked = [(reply_context(p), t) for p, t in replies]
    return {name: round(invented_word_rate(pairs, known), 4) for name, pairs in (
        ("cv", [(f"{n} {t}", b) for n, t, b in cvs]), ("reply", asked),
        ("real_cv", real_cvs), ("real_reply", real_replies))}


def _served(cvs: list[tuple[str, str, str]]) -> float:
    by_prompt: dict[tuple[str, str], bool] = {}
    for name, title, body in cvs:
        by_prompt[name, title] = by_prompt.get((name, title), False) or parse_cv(body) is not None
    return sum(by_prompt.values()) / max(1, len(by_prompt))


def evaluate_writer(writer: Writer, corpus: Path, spec: TextEvalSpec, progress: bool = True,
                    engine: Engine | None = None, encoder: SentenceEncoder | None = None) -> dict[str, Any]:
    """Every measure of the module docstring, on the test split; drafts come from `engine` (the live one)."""
    test = load_split(corpus, "test")
    cvs, replies = _draft_all(writer, test, spec, engine, progress)
    all_replies = [(pair, text) for pair, drafts in replies for text in drafts]
    per_prompt = [distinctness(drafts) for _, drafts in replies if len(drafts) > 1]
    training = training_texts(corpus)
    perplexity = perplexities(writer, corpus) if spec.perplexity else None
    report: dict[str, Any] = {
        "perplexity": perplexity or {"skipped": "--no-perplexity"},
        "cv_parse_rate": round(sum(parse_cv(body) is not None for *_, body in cvs) / len(cvs), 3),
        "cvs_generated": len(cvs),
        # What a member gets: the pipeline never posts a CV that does not parse while one of the job's
        # candidates does (and drafts again when none does), so a prompt is served if any candidate parses.
        "cv_prompts_with_a_parsing_draft": round(_served(cvs), 3),
        "novelty_8gram": round(novelty([c for *_, c in cvs] + [t for _, t in all_replies], training), 3),
        "distinctness": {k: round(sum(d[k] for d in per_prompt) / max(1, len(per_prompt)), 3)
                         for k in ("distinct_2", "unique_share")},
        "subject_mention_rate": round(sum(mentions_subject(t, p.subject or "") for p, t in all_replies)
                                      / max(1, len(all_replies)), 3),
        "replies_generated": len(all_replies),
        "invented_word_rate": _invented(test, training, cvs, all_replies),
        **_in_character(test, cvs, replies, encoder or SentenceEncoder.load(MINILM, str(writer.device))),
        "engine": (engine or TorchEngine(writer)).name,
        "sampling": writer.sampling.to_dict(),
        "examples": {
            "cvs": [{"name": n, "title": t, "body": b} for n, t, b in cvs[:: max(1, len(cvs) // 3)][:3]],
            "replies": [{"request": p.request, "persona": p.persona.model_dump() if p.persona else None,
                         "reply": d[0]} for p, d in replies[:3]],
        },
    }
    passes = {
        **({"perplexity_ratio": perplexity["ratio"] >= BARS["perplexity_ratio"]} if perplexity else {}),
        "cv_parse_rate": report["cv_parse_rate"] >= BARS["cv_parse_rate"],
        "subject_mention_rate": report["subject_mention_rate"] >= BARS["subject_mention_rate"],
    }
    return {**report, "bars": BARS, "passes": passes, "passed": all(passes.values())}
