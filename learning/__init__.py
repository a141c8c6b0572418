"""Learning from the server: consented history becomes training data, and heads retrain and promote themselves.

    sqlite.py       how the bot and the learner open their shared SQLite file (WAL, busy timeout), backups
    consent.py      which channels an admin enabled, who opted out, how far each was read (the bot's SQLite)
    bot_tables.py   the bot's `jobs` and `feedback` tables, defined where the learner can read a posted reply
    scrub.py        mentions, e-mail addresses, phone numbers, links and invites, out of every text
    harvest.py      a channel's history into request/reply pairs with reaction labels, and real texts
    harvest_job.py  one harvest, wired: the bot's token and store, discord.py's HTTP client
    datasets.py     the harvested sets on disk (JSONL), appended once per message, forgotten per member
    retrain.py      a candidate quality head from the harvest and the synthetic prior, scored on the future
    retrain_realism.py  a candidate realism head from members' texts against the live writer's drafts
    cycle.py        one learning cycle (harvest, retrain, promote if better), never two at once
    versions.py     versions side by side, the live one's pointer, promotions and rollbacks on record

sqlite, consent, bot_tables, scrub, datasets, versions and cards are torch-free: the bot (`/learn`, its store,
`/help`) and the workers (following the live version) import them. retrain imports the models and runs in the
learner.
"""
