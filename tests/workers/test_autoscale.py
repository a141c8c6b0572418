"""The GPU-aware autoscaler, with a simulated memory probe and a stand-in pool."""

from __future__ import annotations

import time

from workers.autoscale import GIB, GpuAwareAutoscaler


class FakePool:
    def __init__(self, processes: int) -> None:
        self.num_processes = processes

    def grow(self, n: int) -> None:
        self.num_processes += n

    def shrink(self, n: int) -> None:
        self.num_processes -= n

    def maintain_pool(self) -> None:
        pass


class Scaler(GpuAwareAutoscaler):
    """Jobs waiting are set by the test instead of counted from a live worker."""

    waiting = 0

    @property
    def qty(self) -> int:
        return self.waiting


def scaler(free_gib: float | None, processes: int = 1, waiting: int = 0) -> Scaler:
    probe = (lambda: None) if free_gib is None else (lambda: int(free_gib * GIB))
    auto = Scaler(FakePool(processes), 4, 1, probe=probe, model_set_bytes=2 * GIB)
    auto.waiting = waiting
    return auto


def test_grows_only_as_far_as_free_memory_allows() -> None:
    auto = scaler(free_gib=5.0, processes=1, waiting=10)
    auto.maybe_scale()
    assert auto.processes == 3  # room for two more 2 GiB model sets, not the three the queue asks for


def test_does_not_grow_without_room() -> None:
    auto = scaler(free_gib=1.5, processes=1, waiting=10)
    auto.maybe_scale()
    assert auto.processes == 1


def test_does_not_grow_without_a_gpu() -> None:
    auto = scaler(free_gib=None, processes=1, waiting=10)
    auto.maybe_scale()
    assert auto.processes == 1


def test_grows_freely_within_memory_and_shrinks_when_idle() -> None:
    auto = scaler(free_gib=100.0, processes=1, waiting=2)
    auto.maybe_scale()
    assert auto.processes == 2
    auto.keepalive = 0.0001
    auto.waiting = 0
    time.sleep(0.01)
    auto.maybe_scale()
    assert auto.processes == 1  # back to the minimum
