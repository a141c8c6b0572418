from __future__ import annotations

import json
from pathlib import Path

import pytest

from implementor.contracts.cv import parse_cv
from implementor.contracts.errors import DataError
from implementor.contracts.records import CVRecord, PairRecord
from implementor.models.writer.trades import TRADES_FILE, TradeBook
from implementor.training.corpus.build import CorpusSpec, EscoIndex, build_corpus
from implementor.training.corpus.compose import PROJECTS
from implementor.training.corpus.splits import SPLITS, load_split

SPEC = CorpusSpec(seed=3, cvs=40, pairs=40)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, small_esco_index: EscoIndex) -> Path:
    out = tmp_path_factory.mktemp("built")
    build_corpus(out, SPEC, "implementor corpus build --out x", progress=False, index=small_esco_index)
    return out


def test_the_build_writes_splits_a_datasheet_and_a_manifest(built: Path) -> None:
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["counts"]["train"] == {"cv": 32, "reply": 32}
    assert manifest["counts"]["test"] == {"cv": 4, "reply": 4}
    datasheet = (built / "datasheet.md").read_text()
    assert "CC BY 4.0" in datasheet and "ESCO" in datasheet
    for split in SPLITS:
        assert len(load_split(built, split)) == sum(manifest["counts"][split].values())


def test_the_same_seed_gives_the_same_corpus(built: Path, tmp_path: Path, small_esco_index: EscoIndex) -> None:
    build_corpus(tmp_path / "again", SPEC, "implementor corpus build --out x", progress=False, index=small_esco_index)
    for split in SPLITS:
        assert (tmp_path / "again" / f"{split}.jsonl").read_bytes() == (built / f"{split}.jsonl").read_bytes()
    other = CorpusSpec(seed=4, cvs=40, pairs=40)
    build_corpus(tmp_path / "other", other, progress=False, index=small_esco_index, compress=True)
    assert load_split(tmp_path / "other", "train") != load_split(built, "train")


def test_the_trade_book_holds_every_occupation_with_the_skills_its_cvs_list(built: Path,
                                                                          small_esco_index: EscoIndex) -> None:
    from implementor.contracts.cv import cv_skills

    book = TradeBook.load(built / TRADES_FILE)
    assert len(book) == len(small_esco_index.occupations)
    manifest = json.loads((built / "manifest.json").read_text())
    assert TRADES_FILE in manifest["sha256"]
    cvs = [r for split in SPLITS for r in load_split(built, split) if isinstance(r, CVRecord)]
    for cv in cvs:
        trade = book.get(cv.title)
        assert trade is not None and set(cv_skills(cv.body)) <= set(trade.skills)


def test_every_generated_cv_is_complete(built: Path) -> None:
    cvs = [r for split in SPLITS for r in load_split(built, split) if isinstance(r, CVRecord)]
    assert cvs and all(parse_cv(cv.body) is not None for cv in cvs)
    profiles = [parse_cv(cv.body)["Profile"] for cv in cvs]  # type: ignore[index]
    assert all(p.startswith(("I ", "For ", "After ")) for p in profiles)  # first person, not a dictionary entry


def test_splits_do_not_share_occupations_or_tasks(built: Path) -> None:
    def keys(split: str) -> set[str]:
        return {r.occupation if isinstance(r, CVRecord) else r.subject for r in load_split(built, split)}  # type: ignore[misc]

    assert not keys("train") & keys("test")
    assert not keys("train") & keys("validation")


def test_a_reply_answers_its_own_request(built: Path) -> None:
    """It names the request's task, and the project it mentions is the request's project (a conversation's
    first request and reply: its follow-ups are short questions, "Can you start on Monday?")."""
    pairs = [r for r in load_split(built, "train") if isinstance(r, PairRecord)]
    named = 0
    for pair in pairs:
        request, reply = (pair.history[0].text, pair.history[1].text) if pair.history else (pair.request, pair.reply)
        assert pair.subject and pair.subject in request and pair.subject in reply
        projects_in_reply = {p for p in PROJECTS if f"the {p} " in reply or f"the {p}:" in reply}
        assert projects_in_reply <= {p for p in PROJECTS if f" {p}" in request}
        named += bool(projects_in_reply)
    assert named >= len(pairs) // 3


def test_skills_fit_the_title(built: Path, small_esco_index: EscoIndex, minilm) -> None:  # type: ignore[no-untyped-def]
    """A CV's skills sit closer to its occupation than skills drawn at random do."""
    import torch

    cvs = [r for r in load_split(built, "train") if isinstance(r, CVRecord)][:10]
    for cv in cvs:
        listed = [line[2:] for line in parse_cv(cv.body)["Skills"].splitlines()]  # type: ignore[index]
        title = minilm.encode([cv.title])
        chosen = (minilm.encode(listed) @ title.T).mean()
        others = [s.label for s in small_esco_index.skills[::40]]
        assert chosen > (minilm.encode(others) @ title.T).mean() + 0.05, cv.title
        assert torch.isfinite(chosen)


def test_bad_lines_are_reported_with_their_numbers(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text('{"task": "cv", "name": "A", "title": "B", "body": "C"}\nnot json\n'
                                          '{"task": "reply", "request": "", "reply": "x"}\n')
    with pytest.raises(DataError, match=r"2 invalid records: line 2: .*; line 3"):
        load_split(tmp_path, "train")
    with pytest.raises(DataError, match="has no validation.jsonl"):
        load_split(tmp_path, "validation")


def test_too_small_a_corpus_is_refused(tmp_path: Path, small_esco_index: EscoIndex) -> None:
    with pytest.raises(DataError, match="at least 10"):
        build_corpus(tmp_path, CorpusSpec(cvs=5, pairs=50), progress=False, index=small_esco_index)


def test_replies_answer_in_the_character_of_their_persona(built: Path) -> None:
    """Each reply (a conversation's first) says who the colleague is (their title) and where they did the work
    (an employer of their CV), and personas stay inside their split's occupations."""
    from implementor.training.corpus.compose import in_prose

    def personas(split: str) -> set[str]:
        pairs = [r for r in load_split(built, split) if isinstance(r, PairRecord)]
        for pair in pairs:
            assert pair.persona is not None and len(pair.persona.skills) >= 3 and pair.persona.roles
            first = pair.history[1].text if pair.history else pair.reply
            assert in_prose(pair.persona.title) in first, (pair.persona.title, first)
            assert any(role.employer.rstrip(".") in first for role in pair.persona.roles), first
        return {r.persona.title for r in pairs if r.persona}

    cv_titles = {split: {r.title for r in load_split(built, split) if isinstance(r, CVRecord)} for split in SPLITS}
    assert not personas("train") & (cv_titles["test"] | cv_titles["validation"])
    assert not personas("test") & cv_titles["train"]


def test_a_share_of_pairs_go_on_as_conversations_in_the_same_voice(tmp_path: Path,
                                                                   small_esco_index: EscoIndex) -> None:
    from implementor.contracts.jobs import ProjectJob
    from implementor.models.writer.prompts import training_text

    spec = CorpusSpec(seed=3, cvs=40, pairs=40, conversations=0.5)
    manifest = build_corpus(tmp_path, spec, progress=False, index=small_esco_index)
    pairs = [r for split in SPLITS for r in load_split(tmp_path, split) if isinstance(r, PairRecord)]
    talks = [p for p in pairs if p.history]
    assert sum(manifest["conversations"].values()) == len(talks) and 10 <= len(talks) <= 30
    assert "**Conversation**" in (tmp_path / "datasheet.md").read_text()
    for talk in talks:
        # The turns alternate from the member's first request, as a follow-up job's do, and each is in bounds.
        ProjectJob(request=talk.request, history=talk.history)
        assert len(talk.history) in (2, 4) and talk.persona is not None
        assert talk.reply != talk.history[1].text and talk.request != talk.history[0].text
        text = training_text(talk)
        assert text.index(talk.history[0].text) < text.index(talk.history[1].text) < text.index(talk.request)
    plain = build_corpus(tmp_path / "plain", CorpusSpec(seed=3, cvs=40, pairs=40, conversations=0.0),
                         progress=False, index=small_esco_index)
    assert sum(plain["conversations"].values()) == 0
