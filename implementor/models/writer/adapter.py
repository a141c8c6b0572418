"""A writer fine-tuned from a pretrained base: the checkpoint that ships, and the cache it is served from.

The checkpoint holds only what is ours:

    adapter.safetensors   the LoRA matrices (`lora.py`)
    card.json             the base (`base.BaseRef`, with its sha256), the LoRA settings, the prompt
                          format, the live sampling settings, how it was trained, and the adapter's sha256
    titles.json           the job titles it saw in training

Serving wants a plain model: the base with the adapter folded in, and the engines' copies of that
(CTranslate2's int8 directory; for a Llama on a GGUF base, the GGUF file llama.cpp runs,
`llama_file.py`). All are built once, on first use, into the cache (`IMPLEMENTOR_CACHE_DIR`), keyed by the
adapter's and the base's sha256, with a manifest of the sha256 of every file built. A later load
checks the manifest and rebuilds a cache entry that does not match, rather than trusting it. Two
processes that start at once build it once: the second waits on a file lock and then finds it built.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from implementor.contracts.errors import CheckpointError
from implementor.models.common.checkpoint import (
    CARD_FILE,
    load_tensors,
    read_json,
    save_tensors,
    sha256_file,
    write_json,
)
from implementor.models.writer.base import BaseRef, load_base, verify
from implementor.models.writer.lora import LoRAConfig, adapter_state, inject, load_adapter_state, merge

log = logging.getLogger(__name__)

ADAPTER_FILE = "adapter.safetensors"
MANIFEST_FILE = "manifest.json"
CACHE_VERSION = 2  # bump when what a cache entry holds changes


def is_adapter_checkpoint(path: Path) -> bool:
    return (path / ADAPTER_FILE).is_file()


def save_adapter(model: Any, out_dir: Path, card: dict[str, Any]) -> dict[str, Any]:
    """Write the adapter and its card (with the adapter's sha256); returns the card."""
    out_dir.mkdir(parents=True, exist_ok=True)
    digest = save_tensors(out_dir / ADAPTER_FILE, adapter_state(model))
    card = {**card, "sha256": {ADAPTER_FILE: digest}}
    write_json(out_dir / CARD_FILE, card)
    return card


def adapter_card(checkpoint: Path) -> dict[str, Any]:
    """The card, checked: it names its base and LoRA settings, and the adapter file matches its sha256."""
    card = read_json(checkpoint / CARD_FILE, "model card") if (checkpoint / CARD_FILE).exists() else {}
    if "base" not in card or "lora" not in card:
        raise CheckpointError(f"{checkpoint} has an {ADAPTER_FILE} but its card names no base or LoRA settings")
    expected = card.get("sha256", {}).get(ADAPTER_FILE)
    if expected and sha256_file(checkpoint / ADAPTER_FILE) != expected:
        raise CheckpointError(f"{checkpoint / ADAPTER_FILE} does not match the sha256 in its card: corrupt or replaced")
    return card


def merged_model(checkpoint: Path, card: dict[str, Any]) -> tuple[Any, Any]:
    """The base with this checkpoint's adapter folded in, and the base's tokenizer."""
    model, tokenizer = load_base(BaseRef.from_dict(card["base"]))
    inject(model, LoRAConfig.from_dict(card["lora"]))
    load_adapter_state(model, load_tensors(checkpoint / ADAPTER_FILE))
    return merge(model).eval(), tokenizer


def cache_root() -> Path:
    """Where built writers live: IMPLEMENTOR_CACHE_DIR, else the user's cache folder."""
    from implementor.config.settings import get_settings

    configured = get_settings().cache_dir
    if configured is not None:
        return configured.expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "implementor"


def _entry(card: dict[str, Any], root: Path) -> Path:
    adapter = card.get("sha256", {}).get(ADAPTER_FILE, "unhashed")
    base = card["base"].get("sha256") or "unpinned"
    return root / "writers" / f"v{CACHE_VERSION}-{adapter[:16]}-{base[:12]}"


def _intact(entry: Path) -> bool:
    manifest = entry / MANIFEST_FILE
    if not manifest.is_file():
        return False
    try:
        files = read_json(manifest, "cache manifest")["files"]
        return bool(files) and all((entry / name).is_file() and sha256_file(entry / name) == digest
                                   for name, digest in files.items())
    except (CheckpointError, KeyError, TypeError):
        return False


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _build(checkpoint: Path, card: dict[str, Any], entry: Path, convert: bool) -> None:
    from implementor.models.writer.ct2_file import CT2_DIR, ct2_available, export_ctranslate2
    from implementor.models.writer.llama_file import DEFAULT_QUANTISATION, GGUF_FILE, base_gguf, write_gguf

    started = time.perf_counter()
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    log.info("writer: building its cache at %s (first use; a minute or two on a CPU)...", entry)
    log.info("writer: loading the base, %s...", BaseRef.from_dict(card["base"]).describe())
    model, tokenizer = merged_model(checkpoint, card)
    log.info("writer: adapter merged; saving the merged model...")
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    if convert and ct2_available():
        log.info("writer: converting it for CTranslate2 (int8)...")
        export_ctranslate2(tmp, force=True)
    template = base_gguf(card)
    if convert and template is not None and model.config.model_type == "llama":
        log.info("writer: writing its GGUF copy for llama.cpp (%s)...", DEFAULT_QUANTISATION)
        write_gguf(model, template, tmp / GGUF_FILE)
    files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
    write_json(tmp / MANIFEST_FILE, {"checkpoint": str(checkpoint), "adapter": card["sha256"].get(ADAPTER_FILE),
                                     "base": card["base"], "ctranslate2": (tmp / CT2_DIR).is_dir(),
                                     "gguf": (tmp / GGUF_FILE).is_file(),
                                     "files": {name: sha256_file(tmp / name) for name in files}})
    shutil.rmtree(entry, ignore_errors=True)
    tmp.rename(entry)
    log.info("writer: cache built in %.0f s", time.perf_counter() - started)


def materialise(checkpoint: Path, card: dict[str, Any], root: Path | None = None, convert: bool = True) -> Path:
    """The cache entry (a plain `save_pretrained` directory) serving this checkpoint; built if missing or bad."""
    verify(BaseRef.from_dict(card["base"]))  # a base that is gone or replaced is refused, built cache or not
    entry = _entry(card, root or cache_root())
    if _intact(entry):
        return entry
    with _locked(entry.with_name(f".{entry.name}.lock")):
        if _intact(entry):  # another process built it while this one waited
            return entry
        if entry.exists():
            log.warning("writer: the cache at %s does not match its manifest; rebuilding it", entry)
        for stale in entry.parent.glob(f".{entry.name}.*.tmp"):  # a build killed midway (hundreds of MB)
            log.info("writer: removing %s, left by a build that did not finish", stale)
            shutil.rmtree(stale, ignore_errors=True)
        _build(checkpoint, card, entry, convert)
    return entry
