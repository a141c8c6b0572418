"""The writer: a GPT-2 that writes CVs and project replies.

Serving:   model.py (sizes, tokenizer, load, live sampling settings), prompts.py (control tokens and
           prompts), sampling.py (one prefill, batched decode), drafts.py (clean, distinct drafts)
Training:  train.py (next-token training, resumable), eval.py (perplexity, CV completeness, novelty,
           distinctness, topicality)

May import: `contracts`, `config`, `models.common`, and `models.corpus` for training data. Serving
modules never import training ones.
"""
