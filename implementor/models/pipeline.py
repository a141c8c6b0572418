"""The colleague's work, for a batch of jobs at once: introduce yourself, answer a project request.

This is what the worker tasks call, and what the command line's `cv --explain` and `reply --explain`
run (one job each), so that both draft and judge one way. A batch of introductions draws every face
in one generator pass, drafts every CV in one batched generation (each prompt prefilled once), and
scores every draft with one encoder pass; a batch of project requests does the same with replies.
Jobs that arrive close together therefore cost little more than one. Room: `implementor.models.pipeline`, above
the face, writer and rerank rooms; which heads to load comes in with the spec (`store/live.py`
resolves them for the workers and the command line).

A persona is reproducible from its seed: the face comes from the seed alone, and so do the name
and title when the job leaves them out. A reply is written in the voice of the colleague the job
names (if the writer was trained to read a persona).

A caller that wants to follow a batch passes `progress`: it hears the stage (`Stage.DRAFTING`, then
`Stage.JUDGING`, from `implementor.contracts.states`) and how far through it the batch is, 0..1 (None when
the engine cannot tell). While drafting that is called after every decoding step, so it must be
cheap (the worker's reporter throttles what it writes: `implementor/workers/progress.py`).
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from faker import Faker

from implementor.contracts.cv import past_profile
from implementor.contracts.jobs import Turn
from implementor.contracts.persona import Persona
from implementor.contracts.states import Stage
from implementor.models.face.generator import FaceGenerator, png_bytes, to_uint8
from implementor.models.rerank.policy import Ranked, RerankPolicy
from implementor.models.rerank.reranker import Reranker
from implementor.models.writer.conversation import conversation_prompt
from implementor.models.writer.drafts import CV_RULES, generate_many, reply_prompt_for, reply_rules, tidy
from implementor.models.writer.engine import Engine
from implementor.models.writer.engine_choice import load_engine
from implementor.models.writer.model import SamplingSettings, Writer
from implementor.models.writer.prompts import judge_prompt_cv
from implementor.models.writer.pruning import Prune
from implementor.models.writer.torch_engine import TorchEngine

log = logging.getLogger(__name__)
Progress = Callable[[str, float | None], None]  # (stage, share of it done or None): how far a batch is
NAME_LOCALES = ("en_GB", "en_US", "en_IE", "de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT")


@dataclass(frozen=True)
class PipelineSpec:
    """Which models to load and how to use them; None means the bundled checkpoint."""

    face: Path | None = None
    writer: Path | None = None
    realism: Path | None = None
    quality: Path | None = None
    encoder: str = "all-MiniLM-L6-v2"
    device: str = "auto"
    engine: str = "auto"  # how drafts are sampled: auto, llama.cpp, ctranslate2 or torch (writer/engine_choice.py)
    threshold: float = 0.9  # P(real) a draft needs to be posted without the low-confidence mark
    candidates: int | None = None  # drafts per CV or reply; None: the writer's card, per task
    cv_keep: int = 0  # CV drafts that may go on past their Profile, one at a time (`cv_prune`); 0: all
    png_size: int = 256
    explore: float = 0.0  # share of replies posting another realistic draft (implementor/models/rerank/policy.py)


@dataclass(frozen=True)
class PersonaRequest:
    name: str | None = None
    title: str | None = None
    seed: int | None = None


@dataclass(frozen=True)
class Introduction:
    name: str
    title: str
    seed: int
    cv: str  # the CV's sections, Markdown
    png: bytes
    ranked: Ranked


@dataclass(frozen=True)
class Answer:
    reply: str
    ranked: Ranked


def said(request: str, history: Sequence[Turn]) -> str:
    """Everything a reply may draw on besides its colleague's CV: the conversation so far and the request (a
    follow-up may name what an earlier turn named)."""
    return "\n".join([*(turn.text for turn in history), request])


def cv_prune(reranker: Reranker, people: Sequence[tuple[str, str]], keep: int) -> Prune | None:
    """Once every CV draft of a person has written its Profile, the `keep` the realism head rates best may
    go on, best first and one at a time: the next only if no finished one keeps the CV's rules and passes
    the realism threshold (`pruning.Prune`); the others stop there. None (every draft to its end) when
    keep is 0."""
    if not keep:
        return None
    prompts = [judge_prompt_cv(n, t) for n, t in people]
    accept = CV_RULES.accept
    assert accept is not None

    def enough(i: int, text: str, finished: bool) -> bool:  # what reranking would post without the low mark
        cv = tidy(text, finished, CV_RULES)
        return accept(cv) and not reranker.rerank(prompts[i], [cv], "cv").low_confidence

    return Prune(ready=past_profile, keep=keep, enough=enough,
                 score=lambda i, texts: reranker.scores(prompts[i], texts, "cv")[0])


def _quiet(_stage: str, _done: float | None) -> None:
    """The progress of a batch nobody follows."""


@contextmanager
def timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round((time.perf_counter() - start) * 1000, 1)


class ColleaguePipeline:
    """The three models a worker process holds: face, writer and reranker."""

    def __init__(self, face: FaceGenerator, writer: Writer, reranker: Reranker, candidates: int | None = None,
                 png_size: int = 256, engine: Engine | None = None, cv_keep: int = 0) -> None:
        self.face, self.writer, self.reranker = face, writer, reranker
        self.candidates, self.png_size, self.cv_keep = candidates, png_size, cv_keep
        self.engine = engine or TorchEngine(writer)
        self.reranker.check_sampling(writer.sampling)

    @classmethod
    def load(cls, spec: PipelineSpec) -> ColleaguePipeline:
        """Everything the spec names (or the bundled models), on its device."""
        writer = Writer.load(spec.writer, spec.device)
        engine = load_engine(writer, spec.engine)
        log.info("drafting with %s", engine.name)
        return cls(
            FaceGenerator.load(spec.face, spec.device),
            writer,
            Reranker.load(spec.realism, spec.quality, spec.encoder, spec.device,
                          RerankPolicy(threshold=spec.threshold, explore=spec.explore)),
            spec.candidates,
            spec.png_size,
            engine,
            spec.cv_keep,
        )

    def persona(self, request: PersonaRequest) -> tuple[str, str, int]:
        """The name, title and seed of a persona, filling what the request leaves out from the seed."""
        seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
        rng = random.Random(seed)
        fake = Faker(NAME_LOCALES[rng.randrange(len(NAME_LOCALES))])
        fake.seed_instance(seed)
        name = request.name or fake.name()
        title = request.title or rng.choice(self.writer.titles)
        return " ".join(name.split()), " ".join(title.split()), seed

    def introduce(self, requests: list[PersonaRequest], timings: dict[str, float],
                  progress: Progress | None = None) -> list[Introduction]:
        personas = [self.persona(r) for r in requests]
        (progress or _quiet)(Stage.DRAFTING, None)  # the face first: a moment, next to the drafting
        with timed(timings, "face_ms"):
            faces = to_uint8(self.face.faces([seed for _, _, seed in personas]))
            pngs = [png_bytes(face, self.png_size) for face in faces]
        # Drafts are reproducible when every job named its seed (`introduce --seed 7`); a bot's jobs do not.
        seeded = all(r.seed is not None for r in requests)
        ranked = self.write_cvs([(n, t) for n, t, _ in personas], timings, personas[0][2] if seeded else None,
                                progress=progress)
        return [Introduction(n, t, s, r.text, png, r)
                for (n, t, s), png, r in zip(personas, pngs, ranked, strict=True)]

    def write_cvs(self, people: list[tuple[str, str]], timings: dict[str, float], seed: int | None = None,
                  sampling: SamplingSettings | None = None, progress: Progress | None = None) -> list[Ranked]:
        """The ranked CV drafts of (name, title) pairs; `sampling` overrides the writer's (`cv --explain`)."""
        report = progress or _quiet
        with timed(timings, "draft_ms"):
            cv = sampling or self.writer.sampling.cv
            report(Stage.DRAFTING, None)
            # A CV is stopped at a heading out of order, and one that breaks the contract is drafted again.
            drafts = generate_many(self.writer, [self.writer.format.cv(n, t) for n, t in people],
                                   self.candidates or cv.candidates, cv, seed, engine=self.engine, rules=CV_RULES,
                                   progress=lambda done: report(Stage.DRAFTING, done), prune=self._cv_prune(people))
        report(Stage.JUDGING, None)
        with timed(timings, "rerank_ms"):
            return self.reranker.rerank_many([(judge_prompt_cv(n, t), d) for (n, t), d in
                                              zip(people, drafts, strict=True)], "cv")

    def _cv_prune(self, people: list[tuple[str, str]]) -> Prune | None:
        return cv_prune(self.reranker, people, self.cv_keep)

    def answer(self, requests: Sequence[tuple[str, Persona | None]], timings: dict[str, float],
               seed: int | None = None, sampling: SamplingSettings | None = None,
               progress: Progress | None = None, explore: list[float | None] | None = None,
               histories: list[tuple[Turn, ...]] | None = None) -> list[Answer]:
        """Replies to (request, who answers) pairs; the heads judge each reply against its request alone.
        `sampling` overrides the writer's reply sampling (`reply --explain --temperature`); `explore`, the
        share of exploration, per request (None: the policy's); `histories`, a follow-up's conversation
        before its request, per request (the newest turns that fit the writer's context)."""
        report = progress or _quiet
        reply = sampling or self.writer.sampling.reply
        with timed(timings, "draft_ms"):
            report(Stage.DRAFTING, None)
            turns = histories or [() for _ in requests]
            prompts = [conversation_prompt(self.writer, request, persona, history, reply) if history else
                       reply_prompt_for(self.writer, request, persona)
                       for (request, persona), history in zip(requests, turns, strict=True)]
            drafts = generate_many(self.writer, prompts, self.candidates or reply.candidates, reply, seed,
                                   engine=self.engine, rules=[reply_rules(said(request, history), persona) for
                                                              (request, persona), history in zip(requests, turns,
                                                                                                 strict=True)],
                                   progress=lambda done: report(Stage.DRAFTING, done))
        report(Stage.JUDGING, None)
        with timed(timings, "rerank_ms"):
            ranked = self.reranker.rerank_many([(request, d) for (request, _), d in zip(requests, drafts, strict=True)],
                                               "reply", explore)
        return [Answer(r.text, r) for r in ranked]
