"""The one model set of a worker process, shared by every task it runs.

`implementor.introduce` and `implementor.project` are different task objects; were the models theirs,
a worker serving both would hold two complete sets, and the autoscaler's rule (one `model_set_gb` per
process) would be off by half. `create_app` gives the app one `ModelSet`; every task reaches the
models through it. It loads lazily, on the first batch, in the pool process that runs it (never in a
signal handler, which Celery kills after a few seconds, and never in Celery's parent, whose CUDA
context a forked child could not use). A set loaded by another process (inherited over a fork) is not
used: the process loads its own.

Which heads are live (and the threshold that goes with them) is `store/live.py`'s to say; here
`pipeline_spec` turns settings and those heads into the pipeline's spec (the CLI's `--explain` uses it
too). Between batches, `follow_promotions` swaps in the heads promoted since the last look (at most
every `model_poll_s`), for every task at once: a batch runs start to end on the heads it began with.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from implementor.config.settings import Settings
from implementor.store.live import LiveHeads, live_heads

if TYPE_CHECKING:  # the models load in the worker process, on the first batch, never at import
    from implementor.models.pipeline import ColleaguePipeline, PipelineSpec

log = logging.getLogger(__name__)


def thread_budget(settings: Settings) -> int:
    """Torch threads per worker process: the machine's cores shared among the processes that may run."""
    if settings.worker_autoscale:
        processes = int(settings.worker_autoscale.split(",")[0])
    else:
        processes = settings.worker_concurrency
    return max(1, (os.cpu_count() or 1) // max(1, processes))


def pipeline_spec(settings: Settings, heads: LiveHeads | None = None) -> PipelineSpec:
    """What the worker's models are, from settings and the live heads (models/ never reads settings itself)."""
    from implementor.models.pipeline import PipelineSpec

    heads = heads or live_heads(settings)
    return PipelineSpec(face=settings.face_model, writer=settings.writer_model, realism=heads.realism.path,
                        quality=heads.quality.path, encoder=settings.encoder, device=settings.device,
                        engine=settings.writer_engine, threshold=heads.threshold, candidates=settings.candidates,
                        cv_keep=settings.cv_keep, png_size=settings.face_png_size, explore=settings.explore)


class ModelSet:
    """This process's models (a `ColleaguePipeline`), loaded once, and the heads it follows."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pipeline: ColleaguePipeline | None = None
        self._owner = 0  # the process that loaded it
        self._heads: dict[str, Path] = {}  # the promoted heads it serves, by kind
        self._heads_checked = 0.0
        self._lock = threading.Lock()  # a threads pool's tasks may ask at once; load once all the same

    @property
    def loaded(self) -> bool:
        return self._pipeline is not None and self._owner == os.getpid()

    @property
    def pipeline(self) -> ColleaguePipeline:
        if not self.loaded:
            with self._lock:
                if not self.loaded:
                    self._load()
        assert self._pipeline is not None
        return self._pipeline

    def _load(self) -> None:
        import torch

        from implementor.models.pipeline import ColleaguePipeline

        torch.set_num_threads(thread_budget(self.settings))
        log.info("loading models in process %d (%d torch threads)", os.getpid(), torch.get_num_threads())
        heads = live_heads(self.settings)
        self._heads, self._heads_checked = heads.promoted(), time.monotonic()
        self._pipeline = ColleaguePipeline.load(pipeline_spec(self.settings, heads))
        self._owner = os.getpid()

    def follow_promotions(self) -> None:
        """Between batches: load a head promoted since the last look (at most every `model_poll_s`).

        A version that fails to load is logged and skipped, and the worker keeps serving the old one.
        """
        if self.settings.models_dir is None or not self.loaded:
            return
        if time.monotonic() - self._heads_checked < self.settings.model_poll_s:
            return
        self._heads_checked = time.monotonic()
        live = live_heads(self.settings).promoted()
        changed = {kind: path for kind, path in live.items() if path != self._heads.get(kind)}
        self._heads = live
        if changed:
            pipeline = self.pipeline
            try:
                pipeline.reranker = pipeline.reranker.with_heads(changed.get("realism"), changed.get("quality"))
            except Exception:
                log.exception("could not load the promoted heads %s; still serving the previous ones", changed)
                return
            log.info("now serving the promoted heads %s", {k: p.name for k, p in changed.items()})
