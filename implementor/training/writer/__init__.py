"""Training the writer: finetune.py (LoRA on a pretrained base, resumable, bf16), train.py (a GPT-2
from scratch, resumable), train_state.py (its checkpoints), eval.py (perplexity, CV completeness,
invented words, novelty, distinctness, topicality), character.py (persona consistency, skills fit).
The served model, its prompts and engines are `implementor.models.writer`.
"""
