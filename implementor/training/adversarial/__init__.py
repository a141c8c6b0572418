"""The writer trained against its judge, in rounds, until a fresh BERT discriminator can no longer tell.

    steps.py    one round's parts: draft, judge, choose what to learn from, fine-tune, a fresh judge
    rounds.py   the rounds: guards and rollback, stopping, rounds.jsonl, the plot, the card, --resume

May import every model room (it drafts with the writer and trains the rerank heads); nothing imports it
but the command line.
"""
