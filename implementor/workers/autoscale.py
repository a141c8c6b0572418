"""A Celery autoscaler that adds a worker process only when the GPU has room for another model set.

Celery's autoscaler grows the pool when jobs wait and shrinks it when they do not. On a GPU each
process loads its own models, so growing blindly ends in out-of-memory errors mid-job. This one asks a
memory probe how much GPU memory is free before it grows, and adds only as many processes as
`model_set_gb` fits. Jobs buffered by celery-batches count as waiting, which Celery's own count misses.

The probe is injected. By default it asks NVML (`nvidia-ml-py`, the driver's management library) and
never CUDA: the autoscaler runs in Celery's parent process, and a CUDA context there would leave every
pool process forked after it unable to use the GPU ("Cannot re-initialize CUDA in forked subprocess").
It reads the GPU this worker's processes will use, the first of `CUDA_VISIBLE_DEVICES` (an index or a
UUID), and reports None (no growth beyond the minimum) without a driver or a GPU. Tests pass a
simulated NVML, or a simulated probe.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from celery.worker.autoscale import Autoscaler

log = logging.getLogger(__name__)

GIB = 1024**3
MemoryProbe = Callable[[], int | None]  # free bytes, or None if there is no GPU


def nvml_free_bytes(nvml: Any = None, env: Mapping[str, str] = os.environ) -> int | None:
    """Free memory on the worker's GPU, from NVML; None without NVML, a driver or a visible GPU."""
    if nvml is None:
        try:
            import pynvml
        except ImportError:
            return None
        nvml = pynvml
    visible = env.get("CUDA_VISIBLE_DEVICES")
    first = visible.split(",")[0].strip() if visible is not None else "0"
    if not first or first == "-1":
        return None  # CUDA_VISIBLE_DEVICES="" hides every GPU from the models; do not count one
    try:
        nvml.nvmlInit()
    except nvml.NVMLError:
        return None  # no driver: a CPU host
    try:
        if first.isdigit():
            handle = nvml.nvmlDeviceGetHandleByIndex(int(first))
        else:  # GPU-... or MIG-..., as device plugins set it
            handle = nvml.nvmlDeviceGetHandleByUUID(first)
        return int(nvml.nvmlDeviceGetMemoryInfo(handle).free)
    except nvml.NVMLError as exc:
        log.warning("NVML could not read the memory of GPU %s: %s", first, exc)
        return None
    finally:
        nvml.nvmlShutdown()


class GpuAwareAutoscaler(Autoscaler):
    probe: MemoryProbe = staticmethod(nvml_free_bytes)

    def __init__(self, *args: Any, probe: MemoryProbe | None = None, model_set_bytes: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if probe is not None:
            self.probe = probe
        if model_set_bytes is None:
            settings = getattr(self.worker.app.conf, "implementor_settings", None) if self.worker else None
            model_set_bytes = int((settings.model_set_gb if settings else 1.0) * GIB)
        self.model_set_bytes = model_set_bytes

    @property
    def qty(self) -> int:
        """Jobs waiting: Celery's reserved requests plus those buffered for a batch."""
        buffered = 0
        if self.worker is not None:
            for task in self.worker.app.tasks.values():
                buffer, pending = getattr(task, "_buffer", None), getattr(task, "_pending", None)
                buffered += (buffer.qsize() if buffer else 0) + (pending.qsize() if pending else 0)
        return int(super().qty) + buffered

    def room_for(self) -> int:
        """How many more model sets fit in free GPU memory."""
        free = self.probe()
        return 0 if free is None else max(0, free // self.model_set_bytes)

    def scale_up(self, n: int) -> Any:
        allowed = min(n, self.room_for())
        if allowed < n:
            log.info("not adding %d of %d processes: a model set needs %.1f GiB of GPU memory and %s is free",
                     n - allowed, n, self.model_set_bytes / GIB,
                     "none" if self.probe() is None else f"{(self.probe() or 0) / GIB:.1f} GiB")
        if allowed:
            return super().scale_up(allowed)
        return None
