"""Learning from the server: consented history becomes training data, and heads retrain and promote themselves.

    scrub.py        mentions, e-mail addresses, phone numbers, links and invites, out of every text
    harvest.py      a channel's history into request/reply pairs with reaction labels, and real texts
    harvest_job.py  one harvest, wired: the bot's token and store, discord.py's HTTP client
    retrain.py      a candidate quality head from the harvest and the synthetic prior, scored on the future
    retrain_realism.py  a candidate realism head from members' texts against the live writer's drafts
    cycle.py        one learning cycle (harvest, retrain, promote if better), never two at once

What it keeps (consent, the harvested sets, versions) is in `implementor.store`. It runs in the learner
(`implementor/workers/learn_tasks.py`) and may import `implementor.training`, `implementor.models`,
`implementor.store` and `config`.
"""
