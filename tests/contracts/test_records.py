"""Corpus records: validation, extra fields kept."""
from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from implementor.contracts.records import CVRecord, Record


def test_records_validate_and_keep_extra_fields() -> None:
    adapter = TypeAdapter(Record)
    cv = adapter.validate_json('{"task": "cv", "name": "Ada", "title": "Analyst", "body": "x", "occupation": "a"}')
    assert isinstance(cv, CVRecord) and cv.model_dump()["occupation"] == "a"
    with pytest.raises(ValidationError):
        adapter.validate_json('{"task": "cv", "name": "", "title": "Analyst", "body": "x"}')
    with pytest.raises(ValidationError):
        adapter.validate_json('{"task": "poem", "text": "x"}')
