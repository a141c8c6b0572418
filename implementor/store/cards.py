"""The colleague's models as a member may read about them (`/help`): which checkpoint serves each role,
and the figures its card recorded when it was measured. Torch-free: it reads `card.json` files only.

A role is served by the checkpoint a worker with these settings loads: for the two heads what
`live.py` resolves (the promoted version, else the configured directory, else the bundled one); for
the face and the writer the configured directory, else the bundled one (`implementor/models/bundled/`). Figures
are read from the card as recorded, never written down here; a card that lacks a figure simply shows
fewer. Room: `learning`, its torch-free part (the bot's `/help` reads it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from implementor.config.settings import Settings
from implementor.store.live import BUNDLED_HEADS, bundled_dir, live_head

ROLES = {  # role -> (what it does, its bundled checkpoint)
    "face": ("DCGAN face generator: draws the colleague's face", "face-lfw"),
    "writer": ("GPT-2-class writer (SmolLM2-135M, fine-tuned): drafts the CV and the replies", "writer-smollm2"),
    "realism": ("BERT realism discriminator: keeps the drafts it believes a person wrote",
                BUNDLED_HEADS["realism"]),
    "quality": ("BERT quality model: picks the draft colleagues are expected to rate highest",
                BUNDLED_HEADS["quality"]),
}


@dataclass(frozen=True)
class ModelCard:
    role: str
    what: str
    source: str  # "bundled face-lfw", "live version v0003", or the configured directory's name
    figures: list[str]


def _get(card: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(card, dict) or key not in card:
            return None
        card = card[key]
    return card


def _pct(value: Any) -> str:
    return f"{100 * float(value):.0f}%"


def _face(card: dict[str, Any]) -> list[str]:
    out = []
    if (rate := _get(card, "metrics", "eval", "face_rate")) is not None:
        out.append(f"a face detector finds a face in {_pct(rate['generated'])} of its images "
                   f"({_pct(rate['real'])} of real photos)")
    if (ratio := _get(card, "metrics", "eval", "diversity", "ratio")) is not None:
        out.append(f"as varied as real faces: diversity ratio {ratio:.2f}")
    if (ratio := _get(card, "metrics", "eval", "memorisation", "ratio")) is not None:
        out.append(f"does not copy its training photos: memorisation ratio {ratio:.2f}")
    if (images := _get(card, "data", "train_images")) is not None:
        out.append(f"trained on {images} photos ({_get(card, 'data', 'source') or 'own data'})")
    return out


def _writer(card: dict[str, Any]) -> list[str]:
    out = []
    evaluation = _get(card, "metrics", "eval") or {}
    perplexity = _get(evaluation, "perplexity", "model") or _get(card, "metrics", "validation_perplexity")
    if perplexity is not None:
        out.append(f"perplexity {perplexity:.1f} on held-out text")
    if (rate := evaluation.get("cv_parse_rate")) is not None:
        out.append(f"{_pct(rate)} of its CVs have every section")
    if (rate := _get(evaluation, "persona_consistency", "rate")) is not None:
        out.append(f"{_pct(rate)} of its replies stay in character")
    if (rate := evaluation.get("novelty_8gram")) is not None:
        out.append(f"{_pct(rate)} of its 8-word runs are not in its training text")
    return out


def _head(card: dict[str, Any]) -> list[str]:
    out = []
    held = _get(card, "learning", "held_out")
    if isinstance(held, dict):  # a retrained version: measured on the server's own latest history
        out += [f"held-out {key} {value:g}" for key, value in held.items() if isinstance(value, float)]
    elif (auc := _get(card, "metrics", "validation", "auc")) is not None:
        out.append(f"validation AUC {auc:.2f}")
    reply = _get(card, "calibration", "reply")
    if isinstance(reply, dict) and "threshold" in reply:
        out.append(f"at P(real) {reply['threshold']} it keeps {_pct(reply['real_pass_rate'])} of real replies "
                   f"and {_pct(reply['draft_pass_rate'])} of drafts")
    return out


FIGURES: dict[str, Callable[[dict[str, Any]], list[str]]] = {"face": _face, "writer": _writer, "realism": _head,
                                                             "quality": _head}


def read_card(directory: Path) -> dict[str, Any]:
    """A checkpoint's card, or {} where it has none (or one that is not JSON)."""
    try:
        card = json.loads((directory / "card.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}


def _served_dir(role: str, settings: Settings) -> tuple[Path, str]:
    configured: Path | None = getattr(settings, f"{role}_model")
    if role in BUNDLED_HEADS:
        head = live_head(settings.models_dir, role, configured)
        return head.path, head.source
    if configured is not None:
        return configured, f"configured {configured.name}"
    bundled = ROLES[role][1]
    return bundled_dir() / bundled, f"bundled {bundled}"


def served(settings: Settings) -> list[ModelCard]:
    """Each role's model as these settings serve it, with its measured figures."""
    out = []
    for role, (what, _) in ROLES.items():
        directory, source = _served_dir(role, settings)
        out.append(ModelCard(role, what, source, FIGURES[role](read_card(directory))))
    return out
