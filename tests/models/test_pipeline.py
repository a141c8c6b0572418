"""The colleague pipeline on the tiny test models: a persona reproducible from its seed, a batch of
introductions (faces, CVs, ranked drafts) and a batch of replies, each stage timed."""

from __future__ import annotations

from pathlib import Path

import pytest

from implementor.contracts.persona import Persona
from implementor.models.pipeline import ColleaguePipeline, PersonaRequest, PipelineSpec
from implementor.models.rerank.policy import RerankPolicy

PNG = b"\x89PNG\r\n\x1a\n"
REQUEST = "Could someone help us plan a marketing strategy for the spring launch?"


@pytest.fixture(scope="module")
def pipeline(tiny_env: dict[str, str]) -> ColleaguePipeline:
    model = {name: Path(tiny_env[f"IMPLEMENTOR_{name.upper()}_MODEL"]) for name in ("face", "writer", "realism",
                                                                                   "quality")}
    spec = PipelineSpec(**model, encoder=tiny_env["IMPLEMENTOR_ENCODER"], device="cpu", engine="torch",
                        candidates=3, png_size=32)
    return ColleaguePipeline.load(spec)


def test_a_persona_comes_from_its_seed_and_keeps_what_the_request_names(pipeline: ColleaguePipeline) -> None:
    assert pipeline.persona(PersonaRequest(seed=7)) == pipeline.persona(PersonaRequest(seed=7))
    name, title, seed = pipeline.persona(PersonaRequest(seed=7))
    assert seed == 7 and name and title in pipeline.writer.titles
    assert pipeline.persona(PersonaRequest(name="  Ada   Lovelace ", title="Data  Scientist", seed=7)) == (
        "Ada Lovelace", "Data Scientist", 7)
    assert 0 <= pipeline.persona(PersonaRequest())[2] < 2**31  # no seed: one is drawn


def test_a_batch_of_introductions_has_a_face_and_a_ranked_cv_each(pipeline: ColleaguePipeline) -> None:
    requests = [PersonaRequest(name="Ada Lovelace", title="Data Scientist", seed=3), PersonaRequest(seed=11)]
    timings: dict[str, float] = {}
    intros = pipeline.introduce(requests, timings)
    assert [(i.name, i.seed) for i in intros][0] == ("Ada Lovelace", 3) and intros[1].seed == 11
    assert all(i.png.startswith(PNG) for i in intros) and intros[0].png != intros[1].png  # a face per seed
    for intro in intros:
        assert intro.cv == intro.ranked.text and len(intro.ranked.candidates) == 3
        assert sum(c.chosen for c in intro.ranked.candidates) == 1
    assert set(timings) == {"face_ms", "draft_ms", "rerank_ms"} and all(ms >= 0 for ms in timings.values())
    again = pipeline.introduce(requests, {})
    assert [(i.png, i.cv) for i in again] == [(i.png, i.cv) for i in intros]  # every job seeded: reproducible


def test_a_batch_of_replies_answers_each_request_in_turn(pipeline: ColleaguePipeline) -> None:
    colleague = Persona(name="Ada Lovelace", title="Data Scientist")
    timings: dict[str, float] = {}
    requests = [(REQUEST, colleague), ("Who can review the budget for next quarter?", None)]
    answers = pipeline.answer(requests, timings, seed=5)
    assert len(answers) == 2
    for answer in answers:
        assert answer.reply == answer.ranked.text and len(answer.ranked.candidates) == 3
        assert answer.reply in [c.text for c in answer.ranked.candidates]
    assert set(timings) == {"draft_ms", "rerank_ms"}
    assert [a.reply for a in pipeline.answer(requests, {}, seed=5)] == [a.reply for a in answers]  # seeded


def test_a_batch_tells_its_follower_each_stage_and_how_far_it_is(pipeline: ColleaguePipeline) -> None:
    """Drafting, with its share done growing to at most 1, then judging; and the same answers as unfollowed."""
    heard: list[tuple[str, float | None]] = []
    requests: list[tuple[str, Persona | None]] = [(REQUEST, None), ("Who can review the budget for next quarter?",
                                                                     None)]
    answers = pipeline.answer(requests, {}, seed=5, progress=lambda stage, done: heard.append((stage, done)))
    assert [a.reply for a in answers] == [a.reply for a in pipeline.answer(requests, {}, seed=5)]
    stages = [stage for stage, _ in heard]
    assert stages[0] == "writing drafts" and stages[-1] == "judging drafts"
    assert stages == sorted(stages, key=["writing drafts", "judging drafts"].index)  # in that order, once each
    shares = [done for stage, done in heard if stage == "writing drafts" and done is not None]
    assert shares and shares == sorted(shares) and shares[-1] <= 1  # the torch engine decodes step by step
    heard.clear()
    pipeline.introduce([PersonaRequest(seed=3)], {}, progress=lambda stage, done: heard.append((stage, done)))
    assert heard[0] == ("writing drafts", None) and heard[-1] == ("judging drafts", None)


def test_cv_drafts_are_weighed_once_their_profile_is_written(pipeline: ColleaguePipeline) -> None:
    """With cv_keep, a CV's drafts carry a prune: ready once a heading follows the Profile, scored by the
    realism head (P(real) of each draft so far), keeping the best cv_keep; without it, none."""
    assert pipeline._cv_prune([("Ada Lovelace", "Data Scientist")]) is None  # cv_keep 0: every draft goes on
    pipeline.cv_keep = 2
    try:
        prune = pipeline._cv_prune([("Ada Lovelace", "Data Scientist")])
        assert prune is not None and prune.keep == 2
        assert not prune.ready("## Profile\nI analyse data.") and prune.ready("## Profile\nI analyse data.\n## Skills")
        scores = prune.score(0, ["## Profile\nI analyse data for a living.", "## Profile\nData data data data."])
        assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
        assert prune.enough is not None  # the kept drafts go on one at a time: the next only if this one fails
        whole = ("## Profile\nI analyse data for retailers.\n\n## Skills\n- forecasting\n- SQL\n- Python\n\n"
                 "## Experience\n- Data Scientist, Acme Stores (2019-present). Built demand forecasts for 40 "
                 "shops.\n- Analyst, Bolt and Sons (2016-2019). Cleaned sales data.\n\n## Education\n"
                 "- BSc in Statistics, University of Leeds (2015)")
        broken = "## Profile\nI analyse data for retailers.\n\n## Skills\n- SQL"
        for threshold, verdicts in ((0.0, (True, False)), (1.0, (False, False))):
            pipeline.reranker.policy = RerankPolicy(threshold=threshold)
            assert (prune.enough(0, whole, True), prune.enough(0, broken, True)) == verdicts
    finally:
        pipeline.cv_keep = 0
        pipeline.reranker.policy = RerankPolicy()
