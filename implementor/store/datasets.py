"""The harvested sets on disk: request/reply pairs with their reaction labels, and members' other messages.

    <learning_dir>/harvest/pairs.jsonl   one PairRecord per line, with where it came from (guild, channel,
                                         message ids, authors, time) and its labels: the distinct members
                                         who reacted, their bin (0, 1, 2-4, 5+), and 👍/👎 on the colleague's
    <learning_dir>/harvest/texts.jsonl   other messages (with the one before as context): real text

Rows are appended once per message id (a harvest retried after a 429 adds nothing twice), and
`forget(member)` rewrites both files without any row the member wrote or replied to. Both hold an
exclusive lock on `<learning_dir>/harvest/.lock` while they work, so that the bot (forgetting an
opted-out member) and the learner (appending) never interleave, even from two containers.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PAIRS, TEXTS = "pairs.jsonl", "texts.jsonl"
PREFERENCES = "preferences.jsonl"  # members' choices among a reply's drafts, copied from the bot's store
BINS = ((0, 0), (1, 1), (2, 4), (5, 10**9))  # the reddit bot's upvote bins, for distinct reacting members


def reaction_bin(reactors: int) -> int:
    return next(i for i, (low, high) in enumerate(BINS) if low <= reactors <= high)


def harvest_dir(learning_dir: Path) -> Path:
    return learning_dir / "harvest"


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the harvest folder's lock (a file lock: it works across processes and containers)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def append_new(path: Path, rows: Iterable[dict[str, Any]], key: str = "message_id") -> int:
    """Append the rows whose `key` is not in the file yet; returns how many were new."""
    with locked(path.parent):
        seen = {row[key] for row in read_rows(path)}
        fresh = []
        for row in rows:
            if row[key] not in seen:
                seen.add(row[key])
                fresh.append(row)
        if fresh:
            with path.open("a", encoding="utf-8") as fh:
                fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in fresh)
    return len(fresh)


def _rewrite(path: Path, rows: list[dict[str, Any]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    os.replace(tmp, path)


def forget(learning_dir: Path, member: int) -> int:
    """Remove every harvested row a member wrote (or asked, or answered); returns how many went."""
    removed = 0
    with locked(harvest_dir(learning_dir)):
        for name, fields in ((PAIRS, ("request_author", "reply_author")), (TEXTS, ("author", "context_author")),
                             (PREFERENCES, ("who",))):
            path = harvest_dir(learning_dir) / name
            rows = read_rows(path)
            kept = [row for row in rows if all(row.get(f) != member for f in fields)]
            removed += len(rows) - len(kept)
            if len(kept) != len(rows):
                _rewrite(path, kept)
    return removed
