"""Which realism and quality heads are live, and where each comes from: the one resolver.

A head is served from, in this order:
1. the version promoted in `IMPLEMENTOR_MODELS_DIR` (its `CURRENT` pointer, see `versions.py`);
2. else the configured directory (`IMPLEMENTOR_REALISM_MODEL`, `IMPLEMENTOR_QUALITY_MODEL`);
3. else the bundled one (`implementor/models/bundled/`).
The realism threshold that goes with them is `IMPLEMENTOR_REALISM_THRESHOLD`: a realism head is
calibrated for the live threshold (its card's shift), so the two travel together.

Everyone who needs the live heads asks here: the workers (`implementor/workers/model_set.py`, at load and between
batches), the learner (`retrain.py`, `retrain_realism.py`: the head a candidate must beat), `/help`
(`cards.py`) and the command line (`--explain`, through `implementor.workers.model_set.pipeline_spec`).

Room: `learning`, torch-free (it reads pointer files only, and finds `implementor/models/bundled/` without
importing `models`), so that the bot may use it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from implementor.config.settings import Settings
from implementor.store import versions

BUNDLED_HEADS = {"realism": "realism-minilm", "quality": "quality-minilm"}  # models/rerank/reranker.py's too


def bundled_dir() -> Path:
    """`implementor/models/bundled/`, found beside this package without importing `implementor.models`: the
    bot reads these cards and never imports the models (torch)."""
    return Path(__file__).resolve().parents[1] / "models" / "bundled"


@dataclass(frozen=True)
class LiveHead:
    """The directory one head is served from, and why that one."""

    kind: str  # "realism" or "quality"
    path: Path
    source: str  # "live version v0003", "configured my-head" or "bundled realism-minilm"
    promoted: bool  # a version in IMPLEMENTOR_MODELS_DIR (what workers follow between batches)


def live_head(models_dir: Path | None, kind: str, configured: Path | None) -> LiveHead:
    """The head of `kind` served with these versions and this configured directory (module docstring)."""
    if (live := versions.current_path(models_dir, kind)) is not None:
        return LiveHead(kind, live, f"live version {live.name}", promoted=True)
    if configured is not None:
        return LiveHead(kind, configured, f"configured {configured.name}", promoted=False)
    return LiveHead(kind, bundled_dir() / BUNDLED_HEADS[kind], f"bundled {BUNDLED_HEADS[kind]}", promoted=False)


@dataclass(frozen=True)
class LiveHeads:
    realism: LiveHead
    quality: LiveHead
    threshold: float  # P(real) a draft needs to be posted without the low-confidence mark

    def promoted(self) -> dict[str, Path]:
        """The heads served from a promoted version, by kind; the others are left out."""
        return {head.kind: head.path for head in (self.realism, self.quality) if head.promoted}


def live_heads(settings: Settings) -> LiveHeads:
    """Both heads a worker with these settings serves, and the threshold that goes with them."""
    return LiveHeads(realism=live_head(settings.models_dir, "realism", settings.realism_model),
                     quality=live_head(settings.models_dir, "quality", settings.quality_model),
                     threshold=settings.realism_threshold)
