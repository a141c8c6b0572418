"""The Implementor: a synthetic colleague for a Discord server, in one package with a room per concern.

    contracts/  typed jobs, results, personas, the CV format, errors (torch-free; imports nothing of ours)
    config/     settings (`IMPLEMENTOR_*`) and logging set-up
    store/      every table of the shared database, its queries and migrations, and the files beside it
                (harvested sets, model versions, cards): torch-free, used by the bot, the workers and the learner
    models/     serving: the face generator, the writer and its engines, the rerank heads, the pipeline
    training/   corpus, fine-tuning, adversarial rounds, head training, evaluation
    workers/    the Celery app, thin tasks, the model set, batching, autoscaling, liveness
    learning/   harvest, consent-aware datasets, retraining and promotion
    bot/        the discord.py bot (never torch)
    cli/        the `implementor` command

Imports point down the list above, with the exceptions `tests/test_architecture.py` writes out.
"""

__version__ = "0.1.0"
