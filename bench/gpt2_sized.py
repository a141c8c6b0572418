"""A randomly initialised GPT-2 of `gpt2` size (124M parameters: 12 layers, 768 wide, 50,257 tokens),
with a converted int8 copy, for benchmarks that ask how the writer's code scales to the model an
operator fine-tunes. Prompts are our tokenizer's ids (all below 8,192), so they index it directly."""

from __future__ import annotations

from pathlib import Path

import torch

from models.writer.model import Writer

GPT2_VOCAB = 50257


def gpt2_sized_writer(writer: Writer, folder: Path) -> Writer:
    """Save a random `gpt2`-sized model (with a tokenizer of its vocabulary's size) and convert it."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from models.writer.export import export_ctranslate2

    torch.manual_seed(0)
    eos = writer.eos_id
    model = GPT2LMHeadModel(GPT2Config(bos_token_id=eos, eos_token_id=eos, pad_token_id=eos)).eval()
    # Our tokens keep their ids; the rest of GPT-2's vocabulary gets placeholder names, so that the
    # converted copy has a vocabulary as large as its embedding matrix.
    ours = writer.tokenizer.convert_ids_to_tokens(list(range(len(writer.tokenizer))))
    vocab = {token: i for i, token in enumerate(ours)} | {f"<unused{i}>": i for i in range(len(ours), GPT2_VOCAB)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token=ours[eos]))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token=ours[eos], unk_token=ours[eos])
    out = folder / "gpt2-size"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    export_ctranslate2(out)
    loaded = Writer.load(out, str(writer.device))
    # Our tokenizer writes the prompts; the big model reads their ids.
    return Writer(loaded.model, writer.tokenizer, writer.device, {**loaded.card, **{"sampling": writer.card.get(
        "sampling")}}, out)
