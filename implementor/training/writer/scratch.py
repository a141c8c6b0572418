"""A GPT-2 of our own: its shapes, a tokenizer trained on our corpus, a new model; or a pretrained GPT-2 from
the hub or a directory, with our control tokens added. What `train text` starts from (the earlier
design, kept: the bundled writer is a LoRA fine-tune of SmolLM2, `finetune.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from implementor.contracts.errors import CheckpointError
from implementor.models.common.checkpoint import refuse_pickles
from implementor.models.writer.model import add_control_tokens, as_causal_lm
from implementor.models.writer.prompts import CONTROL_TOKENS, EOS, PERSONA_TOKENS


@dataclass(frozen=True)
class WriterSize:
    """A GPT-2 shape for training from scratch."""

    n_layer: int
    n_head: int
    n_embd: int
    n_positions: int
    vocab_size: int


SIZES = {
    # Ships with the project: about 5M parameters, trained on 2 CPU cores. 512 positions hold a whole
    # CV with its prompt; 8k BPE tokens cover the corpus's vocabulary with short sequences.
    "tiny": WriterSize(n_layer=4, n_head=4, n_embd=256, n_positions=512, vocab_size=8192),
    # For a GPU: about 20M parameters, a longer context for long requests.
    "small": WriterSize(n_layer=6, n_head=6, n_embd=384, n_positions=1024, vocab_size=16384),
}


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> Any:
    """A byte-level BPE tokenizer (GPT-2's scheme) trained on our texts, with our special tokens."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=2,
                            special_tokens=[EOS, *CONTROL_TOKENS, *PERSONA_TOKENS], show_progress=False)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer,  # the Rust tokenizer behind the convenience wrapper
        bos_token=EOS, eos_token=EOS, pad_token=EOS, unk_token=None,
        additional_special_tokens=[*CONTROL_TOKENS, *PERSONA_TOKENS],
    )


def new_model(size: WriterSize, tokenizer: Any) -> Any:
    from transformers import GPT2Config, GPT2LMHeadModel

    eos = tokenizer.convert_tokens_to_ids(EOS)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=size.n_positions, n_embd=size.n_embd, n_layer=size.n_layer,
        n_head=size.n_head, bos_token_id=eos, eos_token_id=eos, pad_token_id=eos,
        # A little dropout: the corpus is templated, and the tiny model would otherwise memorise it.
        resid_pdrop=0.1, embd_pdrop=0.1, attn_pdrop=0.1,
    )
    return as_causal_lm(GPT2LMHeadModel(config))


def load_pretrained(name_or_dir: str | Path) -> tuple[Any, Any]:
    """A GPT-2 and its tokenizer from the hub or a directory, with our control tokens added."""
    from transformers import AutoTokenizer, GPT2LMHeadModel

    path = Path(name_or_dir).expanduser()
    if path.exists():
        refuse_pickles(path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(name_or_dir))
        model = GPT2LMHeadModel.from_pretrained(str(name_or_dir), use_safetensors=True)
    except (OSError, ValueError) as exc:
        raise CheckpointError(
            f"could not load the GPT-2 {str(name_or_dir)!r} (not a local save_pretrained directory, "
            f"and the model hub could not provide it): {exc}"
        ) from None
    if add_control_tokens(tokenizer):
        model.resize_token_embeddings(len(tokenizer))
    return as_causal_lm(model), tokenizer
