"""Pure PyTorch models and everything around them: architectures, data, training, evaluation, checkpoints.

Nothing here knows about Celery or Discord; workers call into this package and the bot never does.
"""
