"""Which drafts go on past their first part: the best together, or one at a time (`pruning.Pruning`)."""

from __future__ import annotations

from implementor.models.writer.pruning import Prune, Pruning


class _Stop:
    """What `Pruning` reads of a `StopWhen`: its prune and its decoder (a row's ids are its text's letters)."""

    def __init__(self, prune: Prune) -> None:
        self.prune = prune

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(chr(i) for i in ids)


def _prune(keep: int, good: set[str] | None = None, heard: list[str] | None = None) -> Prune:
    def enough(_prompt: int, text: str, _finished: bool) -> bool:
        assert heard is not None and good is not None
        heard.append(text)
        return text in good

    return Prune(ready=lambda _: True, keep=keep, enough=enough if good is not None else None,
                 score=lambda _, texts: [float(len(t)) for t in texts])  # the longest part is the best


def _ready(pruning: Pruning, written: list[list[int]]) -> None:
    for row, ids in enumerate(written):
        pruning.saw(row, "".join(chr(i) for i in ids))


def test_without_enough_the_best_keep_go_on_together_and_the_rest_end() -> None:
    pruning = Pruning(_Stop(_prune(2)), prompts=1, n=4)  # type: ignore[arg-type]
    written = [[97], [97, 98, 99], [97, 98], [97, 98, 99, 100]]
    _ready(pruning, written)
    step = pruning.step(written, [False] * 4, set())
    assert sorted(step.dropped) == [0, 2] and step.held == step.resumed == []
    assert pruning.step(written, [False] * 4, set()).dropped == []  # a prompt is scored once


def test_one_at_a_time_the_next_resumes_only_if_no_finished_draft_is_enough() -> None:
    heard: list[str] = []
    pruning = Pruning(_Stop(_prune(3, good={"abcdXY"}, heard=heard)), prompts=1, n=4)  # type: ignore[arg-type]
    written = [[97], [97, 98, 99], [97, 98], [97, 98, 99, 100]]
    ended = [False] * 4
    _ready(pruning, written)
    step = pruning.step(written, ended, set())
    assert step.dropped == [0] and step.held == [1, 2] and step.resumed == []  # row 3 goes on alone
    written[3] += [88]
    assert pruning.step(written, ended, set()).resumed == []  # still writing: nothing judged yet
    ended[3] = True
    step = pruning.step(written, ended, set())
    assert heard == ["abcdX"] and step.resumed == [1] and step.dropped == []  # not enough: the next resumes
    written[1] += [88, 89, 90]
    step = pruning.step(written, ended, {1})  # row 1 ran out of tokens: finished, though not ended
    assert heard == ["abcdX", "abcXYZ"] and step.resumed == [2]
    written[2] += [99, 100, 88, 89]
    ended[2] = True
    assert pruning.step(written, ended, set()).resumed == [] and not pruning.queues  # nothing left to resume


def test_one_at_a_time_a_draft_that_is_enough_ends_the_held_ones() -> None:
    heard: list[str] = []
    pruning = Pruning(_Stop(_prune(3, good={"abcdX"}, heard=heard)), prompts=2, n=4)  # type: ignore[arg-type]
    written = [[97], [97, 98, 99], [97, 98], [97, 98, 99, 100]] * 2
    ended = [False] * 8
    _ready(pruning, written)
    step = pruning.step(written, ended, set())
    assert step.dropped == [0, 4] and step.held == [1, 2, 5, 6]
    written[3] += [88]
    ended[3] = True
    step = pruning.step(written, ended, set())
    assert sorted(step.dropped) == [1, 2] and step.resumed == [] and set(pruning.queues) == {1}
