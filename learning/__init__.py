"""Learning from the server: consented history becomes training data, and heads retrain and promote themselves.

    storage/        the torch-free part, which the bot and the workers import too: the shared SQLite file, the
                    bot's `jobs` and `feedback` tables, consent, the harvested sets, versions, the live
                    heads' resolver (promoted, else configured, else bundled), the model cards
    scrub.py        mentions, e-mail addresses, phone numbers, links and invites, out of every text
    harvest.py      a channel's history into request/reply pairs with reaction labels, and real texts
    harvest_job.py  one harvest, wired: the bot's token and store, discord.py's HTTP client
    retrain.py      a candidate quality head from the harvest and the synthetic prior, scored on the future
    retrain_realism.py  a candidate realism head from members' texts against the live writer's drafts
    cycle.py        one learning cycle (harvest, retrain, promote if better), never two at once

Only `storage` is the bot's and the workers' to import (`tests/test_architecture.py`); the rest runs in
the learner (`workers/learn_tasks.py`): the harvest (discord.py's HTTP client) and retraining (the models).
"""
