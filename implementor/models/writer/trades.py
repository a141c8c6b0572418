"""What the writer knows about a trade: the facts a CV's author has about their own work.

A person writing their CV knows what their trade involves, its skills and what they have done in it.
A language model of 135M parameters does not, for the hundreds of trades it never saw in training:
left to itself it circles the title's words ("create games, design games"). The trade book gives the
writer those facts in its CV prompt: for a job title, ESCO's description of the occupation, the
skills nearest to it, the fields one studies for it, and a few pieces of work done in it. The
writer turns them into a CV in its own words (first person, past tense, dates, employers).

    trades.json.gz   {"version": 1, "trades": {"data scientist": {"title": ..., "description": ...,
                      "skills": [...], "fields": [...], "work": [...]}, ...}}

It is built from ESCO with the corpus (`compose.trade_of`, `build.trade_book`), ships with the writer checkpoint
that learnt to read it (named, with its sha256, in the card) and is read here, at serving time. A
title the book does not hold (an operator's own) is prompted without facts, as writers trained with
a book also learn to do.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from implementor.contracts.errors import CheckpointError

TRADES_FILE = "trades.json.gz"
VERSION = 1


def title_key(title: str) -> str:
    """How a title is looked up: case and spacing ignored."""
    return " ".join(title.split()).casefold()


@dataclass(frozen=True)
class Trade:
    title: str
    description: str  # a few sentences: what people in the trade do
    skills: tuple[str, ...]  # nearest first
    fields: tuple[str, ...]  # what one studies for it
    work: tuple[str, ...]  # short descriptions of work done in it

    def brief(self) -> str:
        """The facts as the prompt gives them."""
        parts = [f"What the trade involves: {self.description}"]
        if self.skills:
            parts.append("Skills of the trade: " + "; ".join(self.skills) + ".")
        if self.fields:
            parts.append("Fields of study: " + "; ".join(self.fields) + ".")
        if self.work:
            parts.append("Work done in it: " + " ".join(self.work))
        return "\n".join(parts)


class TradeBook:
    def __init__(self, trades: Iterable[Trade]) -> None:
        self.trades: dict[str, Trade] = {title_key(t.title): t for t in trades}

    def __len__(self) -> int:
        return len(self.trades)

    def get(self, title: str) -> Trade | None:
        return self.trades.get(title_key(title))

    def save(self, path: Path) -> None:
        """Same bytes for the same book (sorted keys, fixed gzip timestamp)."""
        payload = {"version": VERSION, "trades": {k: asdict(t) for k, t in sorted(self.trades.items())}}
        data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
            fh.write(data)

    @classmethod
    def load(cls, path: Path) -> TradeBook:
        try:
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                payload = json.load(fh)
            if payload.get("version") != VERSION:
                raise ValueError(f"version {payload.get('version')!r}, expected {VERSION}")
            return cls(_trade(entry) for entry in payload["trades"].values())
        except FileNotFoundError:
            raise CheckpointError(f"{path} is missing: the writer's card names a trade book") from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CheckpointError(f"{path} is not a readable trade book ({exc}); rebuild it with "
                                  "`implementor corpus trades`") from None


def _trade(entry: Mapping[str, object]) -> Trade:
    def texts(key: str) -> tuple[str, ...]:
        value = entry[key]
        if not isinstance(value, list):
            raise TypeError(f"{key} is not a list")
        return tuple(str(v) for v in value)

    return Trade(title=str(entry["title"]), description=str(entry["description"]), skills=texts("skills"),
                 fields=texts("fields"), work=texts("work"))


def book_for(checkpoint: Path | None, card: Mapping[str, object]) -> TradeBook | None:
    """The trade book a writer's card names, checked against its sha256; None for a writer without one."""
    from implementor.models.common.checkpoint import sha256_file

    entry = card.get("trades")
    if not isinstance(entry, dict):
        return None
    if checkpoint is None:
        raise CheckpointError("the writer's card names a trade book but the writer has no checkpoint folder")
    path = checkpoint / str(entry.get("file", TRADES_FILE))
    if path.is_file() and entry.get("sha256") and sha256_file(path) != entry["sha256"]:
        raise CheckpointError(f"{path} does not match the sha256 in the writer's card: corrupt or replaced")
    return TradeBook.load(path)
