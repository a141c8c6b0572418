"""The writer: a causal language model that writes CVs and project replies.

The bundled one is SmolLM2-135M-Instruct (a GPT-2-sized Llama) fine-tuned with LoRA on our corpus;
on a host with the model hub `gpt2` or `gpt2-medium` fine-tune the same way; a GPT-2 trained from
scratch with our control tokens (the earlier design) still loads and trains.

Serving:   model.py (load, live sampling settings), base.py (finding a pretrained base, checked by
           sha256), adapter.py (a fine-tuned checkpoint and the cache it is served from), lora.py
           (the low-rank matrices, merged for serving), prompts.py (the prompt formats),
           sampling.py (one prefill, batched decode), engine.py (PyTorch or CTranslate2),
           drafts.py (clean, distinct drafts)
Training:  finetune.py (LoRA on a pretrained base, resumable, bf16), train.py (from scratch,
           resumable), eval.py (perplexity, CV completeness, invented words, novelty, distinctness,
           topicality), character.py, export.py

May import: `contracts`, `config`, `models.common`, and `models.corpus` for training data. Serving
modules never import training ones.
"""
