"""Converting a writer checkpoint for CTranslate2: the int8 copy that `ct2_engine.CTranslate2Engine` runs.

The copy lives inside the checkpoint (`ctranslate2/`), and the checkpoint's card records its sha256,
so the bundled writer ships it and a checkpoint trained elsewhere gains it with
`implementor export ctranslate2 DIR`. int8 weights are the smallest and CTranslate2 turns them into
the compute type it is asked for at load (int8 on the CPU, int8_float16 on CUDA).
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from implementor.contracts.errors import CheckpointError, ConfigError
from implementor.models.common.checkpoint import CARD_FILE, read_json, sha256_file, write_json

log = logging.getLogger(__name__)

CT2_DIR = "ctranslate2"


def ct2_available() -> bool:
    try:
        import ctranslate2  # noqa: F401
    except ImportError:
        return False
    return True


def _name_special_tokens(folder: Path) -> None:
    """CTranslate2's loader wants the unknown and start tokens named; a GPT-2 tokenizer may name neither.

    Our byte-level BPE has no unknown token (every byte is a token), and a tokenizer saved without a
    `bos_token` (as GPT-2's defaults go, it is the end token) leaves it null, which the loader refuses.
    """
    config = read_json(folder / "config.json", "CTranslate2 config")
    missing = [k for k in ("unk_token", "bos_token") if config.get(k) is None]
    for key in missing:
        config[key] = config.get("eos_token")
    if missing:
        write_json(folder / "config.json", config)


def export_ctranslate2(checkpoint: Path, quantization: str = "int8", force: bool = False) -> dict[str, Any]:
    """Write `checkpoint/ctranslate2/` and record it in the card; returns what was recorded."""
    if not ct2_available():
        raise ConfigError("converting needs CTranslate2: pip install ctranslate2")
    from ctranslate2.converters import TransformersConverter

    checkpoint = checkpoint.expanduser()
    if not (checkpoint / "config.json").exists():
        raise CheckpointError(f"{checkpoint} is not a writer checkpoint (no config.json)")
    out = checkpoint / CT2_DIR
    tmp = checkpoint / f".{CT2_DIR}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    started = time.perf_counter()
    TransformersConverter(str(checkpoint)).convert(str(tmp), quantization=quantization, force=True)
    _name_special_tokens(tmp)
    if out.exists():
        if not force:
            shutil.rmtree(tmp)
            raise CheckpointError(f"{out} exists; pass --force to convert again")
        shutil.rmtree(out)
    tmp.rename(out)
    record = {"quantization": quantization, "sha256": sha256_file(out / "model.bin"),
              "seconds": round(time.perf_counter() - started, 1)}
    card_path = checkpoint / CARD_FILE
    if card_path.exists():
        card = read_json(card_path, "model card")
        card["ctranslate2"] = record
        write_json(card_path, card)
    log.info("converted %s for CTranslate2 (%s) in %.1f s", checkpoint, quantization, record["seconds"])
    return record
