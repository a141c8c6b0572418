"""The GPU-aware autoscaler, with a simulated memory probe and a stand-in pool."""

from __future__ import annotations

import time

from implementor.workers.autoscale import GIB, GpuAwareAutoscaler


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


# --- the default probe: NVML, never CUDA ---------------------------------------------------------------


class FakeNvml:
    """pynvml's surface the probe uses: two GPUs, by index and by UUID, or no driver at all."""

    class NVMLError(Exception):
        pass

    def __init__(self, free: dict[str, int] | None) -> None:
        self.free = free  # index or UUID -> free bytes; None: no driver
        self.open = 0

    def nvmlInit(self) -> None:  # noqa: N802 (pynvml's names)
        if self.free is None:
            raise self.NVMLError("NVML Shared Library Not Found")
        self.open += 1

    def nvmlShutdown(self) -> None:  # noqa: N802
        self.open -= 1

    def nvmlDeviceGetHandleByIndex(self, index: int) -> str:  # noqa: N802
        return self._handle(str(index))

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> str:  # noqa: N802
        return self._handle(uuid)

    def _handle(self, key: str) -> str:
        assert self.free is not None
        if key not in self.free:
            raise self.NVMLError("Invalid Argument")
        return key

    def nvmlDeviceGetMemoryInfo(self, handle: str) -> object:  # noqa: N802
        assert self.free is not None
        return type("Memory", (), {"free": self.free[handle], "total": 80 * GIB})()


def test_the_probe_reads_the_first_visible_gpu_by_index_or_uuid_and_closes_nvml() -> None:
    from implementor.workers.autoscale import nvml_free_bytes

    nvml = FakeNvml({"0": 3 * GIB, "1": 7 * GIB, "GPU-abc": 5 * GIB})
    assert nvml_free_bytes(nvml, {}) == 3 * GIB  # type: ignore[arg-type]
    assert nvml_free_bytes(nvml, {"CUDA_VISIBLE_DEVICES": "1,0"}) == 7 * GIB  # type: ignore[arg-type]
    assert nvml_free_bytes(nvml, {"CUDA_VISIBLE_DEVICES": "GPU-abc"}) == 5 * GIB  # type: ignore[arg-type]
    assert nvml_free_bytes(nvml, {"CUDA_VISIBLE_DEVICES": "3"}) is None  # type: ignore[arg-type]
    assert nvml_free_bytes(nvml, {"CUDA_VISIBLE_DEVICES": ""}) is None  # type: ignore[arg-type]
    assert nvml.open == 0


def test_the_probe_reports_none_without_a_driver() -> None:
    from implementor.workers.autoscale import nvml_free_bytes

    assert nvml_free_bytes(FakeNvml(None), {}) is None  # type: ignore[arg-type]


def test_the_real_probe_never_initialises_cuda_in_the_process_that_asks() -> None:
    """The autoscaler runs in Celery's parent; CUDA there breaks every pool process forked after it.

    This machine has no GPU, so torch would not make a context anyway: torch.cuda is made to claim a
    GPU and to fail on any use, so a probe that went through torch fails here too."""
    import subprocess
    import sys

    code = ("import sys, torch\n"
            "def used(*a, **k): raise SystemExit('the probe used torch.cuda')\n"
            "torch.cuda.is_available = lambda: True\n"
            "torch.cuda.mem_get_info = torch.cuda.init = torch.cuda._lazy_init = used\n"
            "from implementor.workers.autoscale import GpuAwareAutoscaler\n"
            "free = GpuAwareAutoscaler.probe()\n"
            "assert not torch.cuda.is_initialized(), 'the probe made a CUDA context'\n"
            "assert 'pynvml' in sys.modules, 'the probe did not ask NVML'\n"
            "print(free)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr or done.stdout
    assert done.stdout.strip() == "None"  # no driver here: no growth beyond the minimum
