"""Which engine drafts for a loaded writer: the one a setting names, or the fastest that runs here.

`auto` takes, on a CPU, llama.cpp (when installed and the writer has a GGUF copy), then CTranslate2,
then PyTorch; on a GPU CTranslate2, then PyTorch. An engine that is there but cannot load the writer
is skipped with one warning.
"""

from __future__ import annotations

import logging

from implementor.contracts.errors import ConfigError
from implementor.models.writer.ct2_engine import CTranslate2Engine, has_converted_copy
from implementor.models.writer.ct2_file import ct2_available
from implementor.models.writer.engine import Engine
from implementor.models.writer.llama_engine import LlamaCppEngine, has_gguf_copy, llama_cpp_available
from implementor.models.writer.model import Writer
from implementor.models.writer.torch_engine import TorchEngine

log = logging.getLogger(__name__)


def load_engine(writer: Writer, name: str = "auto", threads: int | None = None) -> Engine:
    """The engine a setting names (`auto`, `llama.cpp`, `ctranslate2` or `torch`) for a loaded writer.

    `auto` takes the fastest that can run this writer here: on a CPU llama.cpp (when installed and
    the writer has a GGUF copy), then CTranslate2, then PyTorch; on a GPU CTranslate2, then PyTorch.
    An engine that is there but cannot load the writer is skipped with one warning."""
    if name == "torch":
        return TorchEngine(writer)
    if name == "ctranslate2":
        if not ct2_available():
            raise ConfigError("IMPLEMENTOR_WRITER_ENGINE=ctranslate2, but CTranslate2 is not installed "
                              "(pip install ctranslate2), or set it to auto or torch")
        return CTranslate2Engine(writer, threads)
    if name == "llama.cpp":
        if not llama_cpp_available():
            raise ConfigError("IMPLEMENTOR_WRITER_ENGINE=llama.cpp, but llama-cpp-python is not installed "
                              "(make install builds it: requirements/build_llama_cpp.sh), or set it to auto")
        return LlamaCppEngine(writer, threads)
    if name != "auto":
        raise ConfigError(f"unknown writer engine {name!r}: use auto, llama.cpp, ctranslate2 or torch")
    candidates: list[tuple[str, type[LlamaCppEngine] | type[CTranslate2Engine]]] = []
    if writer.device.type == "cpu" and llama_cpp_available() and has_gguf_copy(writer):
        candidates.append(("llama.cpp", LlamaCppEngine))
    if ct2_available() and has_converted_copy(writer):
        candidates.append(("CTranslate2", CTranslate2Engine))
    for label, engine in candidates:
        try:
            return engine(writer, threads)
        except (RuntimeError, ValueError, OSError, ConfigError) as exc:
            # CTranslate2 built for another CUDA (cuBLAS 12 against torch's CUDA 13), a llama.cpp library
            # that cannot run here, a copy it cannot read: drafting still works, and the operator is told once.
            log.warning("%s could not load the writer on %s (%s); trying the next engine. "
                        "Set IMPLEMENTOR_WRITER_ENGINE to silence this.", label, writer.device, exc)
    if not candidates:
        log.info("drafting with PyTorch: no faster engine is installed for %s", writer.path)
    return TorchEngine(writer)
