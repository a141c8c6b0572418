"""A Celery autoscaler that adds a worker process only when the GPU has room for another model set.

Celery's autoscaler grows the pool when jobs wait and shrinks it when they do not. On a GPU each
process loads its own models, so growing blindly ends in out-of-memory errors mid-job. This one asks a
memory probe how much GPU memory is free before it grows, and adds only as many processes as
`model_set_gb` fits. Jobs buffered by celery-batches count as waiting, which Celery's own count misses.

The probe is injected: by default it reads `torch.cuda.mem_get_info` (no GPU: no growth beyond the
minimum); tests pass a simulated one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery.worker.autoscale import Autoscaler

log = logging.getLogger(__name__)

GIB = 1024**3
MemoryProbe = Callable[[], int | None]  # free bytes, or None if there is no GPU


def cuda_free_bytes() -> int | None:
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    free, _total = torch.cuda.mem_get_info()
    return int(free)


class GpuAwareAutoscaler(Autoscaler):
    probe: MemoryProbe = staticmethod(cuda_free_bytes)

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
