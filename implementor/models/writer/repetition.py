"""Repetition control while sampling in PyTorch, with CTranslate2's semantics (see `SamplingSettings`).

Per row of a batch it remembers which tokens the row has written (for the penalty) and, for every
(n-1) tokens in a row it has written, which tokens followed them (for the n-gram ban). Both look at
the draft only, never at its prompt, and both follow the batch when finished rows leave it.
"""

from __future__ import annotations

import numpy as np
import torch


class Repetition:
    def __init__(self, rows: int, vocab: int, penalty: float, ngram: int, device: torch.device) -> None:
        self.penalty, self.ngram = penalty, ngram
        self.seen = torch.zeros(rows, vocab, dtype=torch.bool, device=device) if penalty != 1.0 else None
        self.history: list[list[int]] = [[] for _ in range(rows)] if ngram > 0 else []
        self.follows: list[dict[tuple[int, ...], set[int]]] = [{} for _ in range(rows)] if ngram > 0 else []

    @property
    def active(self) -> bool:
        return self.seen is not None or self.ngram > 0

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        """(B, V) logits with the penalty applied and banned n-gram endings masked out."""
        if self.seen is not None:
            penalised = torch.where(logits > 0, logits / self.penalty, logits * self.penalty)
            logits = torch.where(self.seen, penalised, logits)
        if self.ngram > 0 and (banned := self._banned()):
            rows, tokens = zip(*banned, strict=True)
            index = (torch.tensor(rows, device=logits.device), torch.tensor(tokens, device=logits.device))
            logits = logits.index_put(index, torch.tensor(float("-inf"), device=logits.device))
        return logits

    def apply_array(self, logits: np.ndarray) -> np.ndarray:
        """`apply` for logits in a numpy array, in place, on the calling thread (a CPU batch only)."""
        if self.seen is not None:
            seen = self.seen.numpy()
            logits[seen] = np.where(logits[seen] > 0, logits[seen] / self.penalty, logits[seen] * self.penalty)
        if self.ngram > 0 and (banned := self._banned()):
            rows, tokens = zip(*banned, strict=True)
            logits[list(rows), list(tokens)] = -np.inf
        return logits

    def _banned(self) -> list[tuple[int, int]]:
        """(row, token) pairs whose token would end an n-gram the row has already written."""
        return [(row, token) for row, history in enumerate(self.history) if len(history) >= self.ngram - 1
                for token in self.follows[row].get(tuple(history[len(history) - self.ngram + 1 :]), ())]

    def record(self, tokens: torch.Tensor) -> None:
        """The tokens (B,) the rows have just written."""
        if self.seen is not None:
            self.seen[torch.arange(len(tokens), device=tokens.device), tokens] = True
        if self.ngram > 0:
            for row, token in enumerate(tokens.tolist()):
                self._follow(row, token)

    def _follow(self, row: int, token: int) -> None:
        history, n = self.history[row], self.ngram
        if len(history) >= n - 1:
            self.follows[row].setdefault(tuple(history[len(history) - n + 1 :]), set()).add(token)
        history.append(token)

    @classmethod
    def after(cls, drafts: list[list[int]], vocab: int, penalty: float, ngram: int,
              device: torch.device) -> Repetition:
        """The state of rows that have written `drafts` so far (a batch that held drafts rejoin)."""
        state = cls(len(drafts), vocab, penalty, ngram, device)
        for row, tokens in enumerate(drafts):
            if state.seen is not None and tokens:
                state.seen[row, torch.tensor(tokens, device=device)] = True
            for token in tokens if ngram > 0 else ():
                state._follow(row, token)
        return state

    def keep(self, rows: torch.Tensor) -> None:
        """Follow the batch when only `rows` stay in it."""
        if self.seen is not None:
            self.seen = self.seen[rows]
        if self.ngram > 0:
            kept = rows.tolist()
            self.history = [self.history[i] for i in kept]
            self.follows = [self.follows[i] for i in kept]
