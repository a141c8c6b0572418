"""Training curves as PNG files: a few side-by-side panels of named series (matplotlib, no display)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Panel:
    title: str
    xlabel: str
    ylabel: str
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]] = field(default_factory=dict)  # name -> (x, y)
    ylim: tuple[float, float] | None = None


def plot_panels(panels: Sequence[Panel], path: Path, width: float = 5.5, height: float = 4.0) -> None:
    """Draw the panels in one row and write them as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(width * len(panels), height), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        for name, (x, y) in panel.series.items():
            ax.plot(list(x), list(y), label=name, marker="o" if len(x) <= 20 else None)
        ax.set(xlabel=panel.xlabel, ylabel=panel.ylabel, title=panel.title)
        if panel.ylim is not None:
            ax.set_ylim(*panel.ylim)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
