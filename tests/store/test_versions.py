"""Model versions (implementor/store/versions.py), in a temporary models directory: versions added side by side,
the live pointer, promotion and rollback with their history, and the listing `implementor models list`
and `/help` read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from implementor.contracts.errors import InputError
from implementor.store import versions


def checkpoint(tmp_path: Path, name: str, card: dict[str, object] | None = None) -> Path:
    folder = tmp_path / "checkpoints" / name
    folder.mkdir(parents=True)
    (folder / "weights.bin").write_bytes(name.encode())
    if card is not None:
        (folder / "card.json").write_text(json.dumps(card), encoding="utf-8")
    return folder


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


def test_an_empty_models_directory_has_no_versions_and_none_live(models_dir: Path) -> None:
    assert versions.versions(models_dir, "quality") == [] and versions.current(models_dir, "quality") is None
    assert versions.current_path(models_dir, "quality") is None
    assert versions.current_path(None, "quality") is None  # no models directory: the configured model
    assert versions.describe(models_dir, "realism") == []


def test_added_versions_are_numbered_in_turn_and_copied_not_live(models_dir: Path, tmp_path: Path) -> None:
    first = versions.add(models_dir, "quality", checkpoint(tmp_path, "a"))
    second = versions.add(models_dir, "quality", checkpoint(tmp_path, "b"))
    assert (first, second) == ("v0001", "v0002")
    assert versions.versions(models_dir, "quality") == ["v0001", "v0002"]
    assert (models_dir / "quality" / "v0002" / "weights.bin").read_bytes() == b"b"
    assert versions.current(models_dir, "quality") is None  # added is not promoted
    assert versions.versions(models_dir, "realism") == []  # each kind has its own


def test_promoting_moves_the_pointer_and_writes_the_history(models_dir: Path, tmp_path: Path) -> None:
    for name in "ab":
        versions.add(models_dir, "quality", checkpoint(tmp_path, name))
    versions.promote(models_dir, "quality", "v0001", "first")
    versions.promote(models_dir, "quality", "v0002", "better on held-out ratings")
    assert versions.current(models_dir, "quality") == "v0002"
    assert versions.current_path(models_dir, "quality") == models_dir / "quality" / "v0002"
    history = [json.loads(line) for line in (models_dir / "quality" / "history.jsonl").read_text().splitlines()]
    assert [(h["live"], h["was"], h["why"]) for h in history] == [
        ("v0001", None, "first"), ("v0002", "v0001", "better on held-out ratings")]
    assert not list((models_dir / "quality").glob(".*tmp"))  # the pointer was replaced, not left half-written


def test_a_version_that_does_not_exist_cannot_be_promoted(models_dir: Path, tmp_path: Path) -> None:
    versions.add(models_dir, "quality", checkpoint(tmp_path, "a"))
    with pytest.raises(InputError, match="no quality version 'v0009'"):
        versions.promote(models_dir, "quality", "v0009", "typo")
    assert versions.current(models_dir, "quality") is None


def test_rollback_makes_the_version_live_before_the_current_one_live_again(models_dir: Path,
                                                                           tmp_path: Path) -> None:
    for name in "abc":
        versions.add(models_dir, "realism", checkpoint(tmp_path, name))
    with pytest.raises(InputError, match="no earlier realism version"):
        versions.rollback(models_dir, "realism")  # nothing promoted yet
    versions.promote(models_dir, "realism", "v0001", "test")
    with pytest.raises(InputError, match="no earlier realism version"):
        versions.rollback(models_dir, "realism")  # the first live version has nothing before it
    for name in ("v0002", "v0003"):
        versions.promote(models_dir, "realism", name, "test")
    assert versions.rollback(models_dir, "realism", "worse in production") == "v0002"
    assert versions.current(models_dir, "realism") == "v0002"
    last = json.loads((models_dir / "realism" / "history.jsonl").read_text().splitlines()[-1])
    assert (last["live"], last["was"], last["why"]) == ("v0002", "v0003", "worse in production")  # on record
    assert versions.versions(models_dir, "realism") == ["v0001", "v0002", "v0003"]  # nothing deleted


def test_an_unknown_kind_is_refused_with_the_kinds_named(models_dir: Path) -> None:
    for call in (lambda: versions.versions(models_dir, "writer"), lambda: versions.current(models_dir, "writer"),
                 lambda: versions.promote(models_dir, "writer", "v0001", "x")):
        with pytest.raises(InputError, match="quality, realism"):
            call()


def test_describe_lists_every_version_with_its_metrics_and_the_live_one_marked(models_dir: Path,
                                                                              tmp_path: Path) -> None:
    versions.add(models_dir, "quality", checkpoint(tmp_path, "a", {"created": "2026-11-01",
                                                                    "metrics": {"validation": {"mae": 0.9}}}))
    versions.add(models_dir, "quality", checkpoint(tmp_path, "b", {"created": "2026-12-01",
                                                                    "learning": {"held_out": {"mae": 0.7}}}))
    versions.add(models_dir, "quality", checkpoint(tmp_path, "c"))  # no card
    versions.promote(models_dir, "quality", "v0002", "test")
    assert versions.describe(models_dir, "quality") == [
        {"version": "v0001", "live": False, "created": "2026-11-01", "metrics": {"mae": 0.9}},
        {"version": "v0002", "live": True, "created": "2026-12-01", "metrics": {"mae": 0.7}},  # held-out first
        {"version": "v0003", "live": False, "created": None, "metrics": None},
    ]
