"""The discord.py bot: it checks and queues requests and posts the results; it never imports torch or `models`.

    app.py      the `commands.Bot` subclass, and `wire`, which builds each part below with what it uses
    cogs/       one cog per feature: introduce, team, project, feedback
    views.py    the persistent buttons, bound to the actions they take
    runner.py   one job, from its slot in the limits to its one posted result
    render.py   results as Discord messages, within Discord's limits, pinging nobody
    errors.py   our errors as private, friendly replies
    limits.py   per-member and global request limits, in Redis
    store.py    the roster, the ratings and the job ledger, in SQLite

It imports `config` and `contracts` from the rest of the project, nothing else.
"""
