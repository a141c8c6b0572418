"""The writer: a causal language model that writes CVs and project replies, as it is served.

The bundled one is SmolLM2-135M-Instruct (a GPT-2-sized Llama) fine-tuned with LoRA on our corpus;
on a host with the model hub `gpt2` or `gpt2-medium` fine-tune the same way; a GPT-2 trained from
scratch with our control tokens (the earlier design) still loads.

    model.py         load a writer, its live sampling settings
    base.py          finding a pretrained base, checked by sha256
    adapter.py       a fine-tuned checkpoint and the cache it is served from
    lora.py          the low-rank matrices, merged for serving
    prompts.py       the prompt formats; trades.py: the trade book a CV prompt carries
    sampling.py      one prefill, batched decode (the PyTorch loop); repetition.py: the repetition control
    engine.py        the engines behind one interface: PyTorch, CTranslate2 (export.py writes its copy)
    llama_engine.py  the llama.cpp engine; llama_file.py writes its GGUF copy
    drafts.py        clean, distinct drafts, and the drafting rules per task

Training and evaluation live in `implementor.training.writer`. May import: `contracts`, `config`,
`implementor.models.common`.
"""
