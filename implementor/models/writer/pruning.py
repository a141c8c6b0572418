"""Drafts that lose, ended early: an engine that samples for itself stops paying a step for them.

A `Prune` goes with a task's `StopWhen` (`sampling.py`). Once every draft of a prompt has ended or
written its first part (`ready`, read on its complete lines: a CV's Profile), `score` rates those parts
and the best `keep` go on; the others end there and come back empty (no draft).

With `enough` (a finished draft that will do: a CV that keeps its rules and that the realism head
passes), the kept drafts go on one at a time, best first: the next is held, its cells kept in
llama.cpp's cache and its next token picked, and it resumes only if no finished draft of its prompt
is enough. A prompt then ends with the first draft that is, at the cost of one draft's steps, and
still has every kept draft's chance when its best one fails.

`Pruning` is one engine call's pruning at work. llama.cpp's engine prunes; the PyTorch loop and
CTranslate2 draft every row to its end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Prune:
    """Which drafts of a prompt go on past their first part (see the module): `ready` reads a draft's
    complete lines, `score` rates the ready parts (the prompt's index in the call, the drafts' texts so
    far; higher is better), the best `keep` go on, together, or one at a time when `enough` is given
    (the prompt's index, a finished draft's text, and whether it ended by itself rather than running
    out of tokens)."""

    ready: Callable[[str], bool]
    score: Callable[[int, list[str]], list[float]]
    keep: int
    enough: Callable[[int, str, bool], bool] | None = None


class Stopping(Protocol):
    """What pruning reads of a task's `sampling.StopWhen`: its prune, and its tokenizer's decode."""

    prune: Prune | None
    decode: Callable[..., str]


@dataclass
class Step:
    """What a call's pruning decided after a step: rows that end now with no draft, rows held (not
    decoded for now, their cells kept), and held rows that go on again."""

    dropped: list[int]
    held: list[int]
    resumed: list[int]


class Pruning:
    """One call's `Prune` at work over its prompts' rows (prompt i has rows i*n .. i*n+n-1)."""

    def __init__(self, stop: Stopping | None, prompts: int, n: int, offset: int = 0) -> None:
        self.prune = stop.prune if stop is not None else None
        self.stop, self.n, self.offset = stop, n, offset
        self.pending = set(range(prompts)) if self.prune is not None and self.prune.keep < n else set()
        self.ready: set[int] = set()
        self.queues: dict[int, list[int]] = {}  # a prompt's held rows, best first
        self.kept: dict[int, list[int]] = {}  # a prompt's kept rows, while some are held
        self.judged: dict[int, bool] = {}  # finished kept rows: enough or not

    @property
    def waiting(self) -> list[int]:
        """The rows held now, to resume or drop later."""
        return [row for queue in self.queues.values() for row in queue]

    def saw(self, row: int, lines: str | None) -> None:
        """A row's complete lines after its latest token (`StopWhen.lines`, read once for both)."""
        if self.pending and lines is not None and self.prune is not None and row not in self.ready \
                and self.prune.ready(lines):
            self.ready.add(row)

    def step(self, written: list[list[int]], ended: list[bool], out: set[int]) -> Step:
        """After a step (`out`: rows that ran out of tokens): what ends, what is held, what goes on again."""
        decided = Step([], [], [])
        if self.stop is None or self.prune is None:
            return decided
        for prompt in sorted(self.pending):
            own = range(prompt * self.n, (prompt + 1) * self.n)
            if all(ended[row] or row in out or row in self.ready for row in own):
                self.pending.discard(prompt)
                self._choose(prompt, own, written, ended, out, decided)
        for prompt in list(self.queues):
            self._settle(prompt, written, ended, out, decided)
        return decided

    def _choose(self, prompt: int, own: range, written: list[list[int]], ended: list[bool], out: set[int],
                decided: Step) -> None:
        assert self.stop is not None and self.prune is not None
        texts = [self.stop.decode(written[row], skip_special_tokens=True) for row in own]
        scores = self.prune.score(self.offset + prompt, texts)
        best = sorted(own, key=lambda row: -scores[row - own.start])[: self.prune.keep]
        decided.dropped += [row for row in own if row not in best and not ended[row]]
        going = [row for row in best if not ended[row] and row not in out]
        if self.prune.enough is not None and len(going) > 1:
            self.kept[prompt], self.queues[prompt] = best, going[1:]
            decided.held += going[1:]

    def _settle(self, prompt: int, written: list[list[int]], ended: list[bool], out: set[int],
                decided: Step) -> None:
        """Once a prompt's running draft has finished: drop its held rows if a finished one is enough,
        else resume the next."""
        assert self.stop is not None and self.prune is not None and self.prune.enough is not None
        queue = self.queues[prompt]
        finished = [row for row in self.kept[prompt] if row not in queue and (ended[row] or row in out)]
        if len(finished) + len(queue) < len(self.kept[prompt]):
            return  # a kept draft is still being written
        for row in finished:
            if row not in self.judged:
                text = self.stop.decode(written[row], skip_special_tokens=True)
                self.judged[row] = bool(text) and self.prune.enough(self.offset + prompt, text, ended[row])
        if any(self.judged[row] for row in finished):
            decided.dropped += queue
            queue.clear()
        else:
            decided.resumed.append(queue.pop(0))
        if not queue:
            del self.queues[prompt], self.kept[prompt]
