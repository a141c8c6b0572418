"""Reading and writing a corpus's splits: `train.jsonl`, `validation.jsonl`, `test.jsonl` (or `.jsonl.gz`).

This is the light half of the corpus room: training and evaluation read their data through it
without pulling in ESCO, Faker or the encoder that building a corpus needs (`build.py`).
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from implementor.contracts.errors import DataError
from implementor.contracts.records import Record
from implementor.models import BUNDLED

SPLITS = ("train", "validation", "test")
BUNDLED_CORPUS = BUNDLED / "writer-corpus"
_RECORD: TypeAdapter[Record] = TypeAdapter(Record)


def write_jsonl(path: Path, records: Sequence[Record]) -> None:
    """One JSON record per line; a `.gz` path is compressed with a fixed timestamp (same bytes every time)."""
    lines = "".join(record.model_dump_json() + "\n" for record in records).encode("utf-8")
    if path.suffix == ".gz":
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
            fh.write(lines)
    else:
        path.write_bytes(lines)


def split_path(directory: Path | str, split: str) -> Path:
    """`split.jsonl`, or `split.jsonl.gz` if only that exists."""
    folder = Path(directory).expanduser()
    for name in (f"{split}.jsonl", f"{split}.jsonl.gz"):
        if (folder / name).exists():
            return folder / name
    if not folder.is_dir():
        raise DataError(f"corpus directory {folder} does not exist")
    expected = ", ".join(s + ".jsonl" for s in SPLITS)
    raise DataError(f"{folder} has no {split}.jsonl; a corpus directory holds {expected}")


def load_split(directory: Path | str, split: str) -> list[Record]:
    """Read and validate one split; every bad line is reported with its number."""
    path = split_path(directory, split)
    records, problems = [], []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                records.append(_RECORD.validate_json(line))
            except ValidationError as exc:
                problems.append(f"line {number}: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}")
    if problems:
        shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        raise DataError(f"{path} has {len(problems)} invalid records: {shown}")
    if not records:
        raise DataError(f"{path} holds no records")
    return records
