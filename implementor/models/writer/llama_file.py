"""The writer as one GGUF file for llama.cpp: the merged model's weights, the base GGUF's tokenizer.

`engine.LlamaCppEngine` runs this file. It is written from the merged model (the base with the
adapter folded in, `adapter.merged_model`) with the base's own GGUF as the template: every
key/value the base carries (tokenizer, chat template, licence) is copied, the hyperparameters are
written from the model's config, and each tensor is written under llama.cpp's name in the chosen
quantisation (norms stay float32). Only Llama-family writers whose base is a GGUF file have one;
any other writer is served by CTranslate2 or PyTorch.

llama.cpp keeps the query and key projections with each head's two rotary halves interleaved,
where transformers keeps them in halves; `_to_llama_rope` reorders the rows (and the tests check
the round trip through transformers' own GGUF loader, and llama.cpp's logits against PyTorch's).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from implementor.contracts.errors import CheckpointError, ConfigError

log = logging.getLogger(__name__)

GGUF_FILE = "writer.gguf"
# A copy's quantisation names the type of its matrices (norms stay float32), with two mixes:
# - Q4_0: 4-bit, but the token embedding (also the output projection when tied) 8-bit, as llama.cpp's
#   own quantiser leaves it for a 576-wide model (its 6-bit type needs rows of 256);
# - Q4_0_FFN: 4-bit for the feed-forward matrices (three quarters of a layer's weights), 8-bit elsewhere.
# llama.cpp repacks Q4_0 for its fast AVX2 kernels; `bench quantisation` weighs each against Q8_0.
QUANTISATIONS = ("Q8_0", "Q4_0", "Q4_0_FFN", "Q4_1", "F16", "F32")
DEFAULT_QUANTISATION = "Q8_0"  # chosen by measurement: bench/results/decode_latency.json, docs/performance.md
_LAYER = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
          "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
          "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
_TOP = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight"}
_EMBEDDINGS = ("token_embd.weight", "output.weight")
# The template's keys written afresh from the model (its config), or by the writer itself.
_OWN_KEYS = ("general.architecture", "general.file_type", "general.quantization_version", "GGUF.")


def gguf_name(hf_name: str) -> str | None:
    """llama.cpp's name for a transformers Llama tensor (None: not one llama.cpp reads)."""
    if hf_name in _TOP:
        return _TOP[hf_name]
    parts = hf_name.split(".")
    if len(parts) >= 5 and parts[:2] == ["model", "layers"] and parts[-1] == "weight":
        block = _LAYER.get(".".join(parts[3:-1]))
        return f"blk.{parts[2]}.{block}.weight" if block else None
    return None


def _to_llama_rope(weight: np.ndarray, heads: int) -> np.ndarray:
    """Rows of a query/key projection from transformers' rotary layout (halves) to llama.cpp's (pairs)."""
    rows = weight.shape[0]
    return weight.reshape(heads, 2, rows // heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def _hyperparameters(config: Any) -> dict[str, tuple[Any, str]]:
    heads = int(config.num_attention_heads)
    head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // heads)
    rope = getattr(config, "rope_parameters", None) or {}
    theta = float(rope.get("rope_theta", getattr(config, "rope_theta", 10000.0)))
    return {"llama.block_count": (config.num_hidden_layers, "UINT32"),
            "llama.context_length": (config.max_position_embeddings, "UINT32"),
            "llama.embedding_length": (config.hidden_size, "UINT32"),
            "llama.feed_forward_length": (config.intermediate_size, "UINT32"),
            "llama.attention.head_count": (heads, "UINT32"),
            "llama.attention.head_count_kv": (config.num_key_value_heads, "UINT32"),
            "llama.rope.freq_base": (theta, "FLOAT32"),
            "llama.rope.dimension_count": (head_dim, "UINT32"),
            "llama.attention.layer_norm_rms_epsilon": (float(config.rms_norm_eps), "FLOAT32"),
            "llama.vocab_size": (config.vocab_size, "UINT32")}


def _copy_template(writer: Any, template: Path) -> None:
    import gguf

    reader = gguf.GGUFReader(str(template))
    for key, field in reader.fields.items():
        if key.startswith(_OWN_KEYS) or key.startswith("llama."):
            continue
        kind = gguf.GGUFValueType(field.types[0])
        sub = gguf.GGUFValueType(field.types[-1]) if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), kind, sub_type=sub)


def tensor_type(name: str, quantisation: str) -> str:
    """The type a matrix is written in, in a copy of `quantisation` (see QUANTISATIONS)."""
    if quantisation == "Q4_0":
        return "Q8_0" if name in _EMBEDDINGS else "Q4_0"
    if quantisation == "Q4_0_FFN":
        return "Q4_0" if ".ffn_" in name else "Q8_0"
    return quantisation


def write_gguf(model: Any, template: Path, out: Path, quantisation: str = DEFAULT_QUANTISATION) -> Path:
    """Write a Llama-family `model` to `out` as GGUF, with the keys of the GGUF `template` (its tokenizer)."""
    import gguf

    if quantisation not in QUANTISATIONS:
        raise ConfigError(f"unknown GGUF quantisation {quantisation!r}: use one of {', '.join(QUANTISATIONS)}")
    config = model.config
    if getattr(config, "model_type", None) != "llama":
        raise ConfigError(f"a GGUF copy needs a Llama-family writer, not {getattr(config, 'model_type', '?')!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out), arch="llama")
    for key, (value, kind) in _hyperparameters(config).items():
        writer.add_key_value(key, value, gguf.GGUFValueType[kind])
    writer.add_key_value("general.file_type", int(gguf.LlamaFileType[f"MOSTLY_{quantisation.removesuffix('_FFN')}"]
                                                  if quantisation != "F32" else gguf.LlamaFileType.ALL_F32),
                         gguf.GGUFValueType.UINT32)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    _copy_template(writer, template)
    state = model.state_dict()
    tied = bool(getattr(config, "tie_word_embeddings", False))
    for hf_name, tensor in state.items():
        name = gguf_name(hf_name)
        if name is None or (tied and name == "output.weight"):
            continue
        data = tensor.detach().float().cpu().numpy()
        if name.endswith(("attn_q.weight", "attn_k.weight")):
            heads = config.num_attention_heads if "attn_q" in name else config.num_key_value_heads
            data = _to_llama_rope(data, int(heads))
        kind = tensor_type(name, quantisation)
        if data.ndim == 1 or kind == "F32":
            writer.add_tensor(name, np.ascontiguousarray(data, dtype=np.float32))
        elif kind == "F16":
            writer.add_tensor(name, data.astype(np.float16))
        else:
            qtype = gguf.GGMLQuantizationType[kind]
            writer.add_tensor(name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def base_gguf(card: dict[str, Any]) -> Path | None:
    """The base's GGUF file (the template for the tokenizer), if the base is one; else None."""
    from implementor.models.writer.base import BaseRef, weights_file

    try:
        path = weights_file(BaseRef.from_dict(card["base"]))
    except (CheckpointError, KeyError):
        return None
    return path if path.suffix == ".gguf" else None
