"""The discord.py bot: it checks and queues requests and posts the results; it never imports torch or the models.

    app.py         the `commands.Bot` subclass, and `wire`, which builds each part below with what it uses
    cogs/          one cog per feature: introduce, team, project, feedback, learn, settings, help
    views.py       the persistent buttons: one class, each action (rate, why, delete, cancel, regenerate) as data
    runner.py      the front door: a slot in the limits, the job in the book, on the queue, a status at once
    reconciler.py  drives each job in the book to one end: queued again if lost, posted once, or ended honestly
    capacity.py    the honest wait: workers serving the queue, measured job times, the estimate, none alive
    status.py      a waiting job's status message (place, estimate, progress bar), deleted once it answered
    poster.py      where messages go: the interaction's webhook while its token lives, else the channel
    results.py     an introduction's hire, and a finished job's result as the message(s) that answer it
    render.py      results as Discord messages, within Discord's limits, pinging nobody
    command_sync.py  registering the slash commands when they change
    errors.py      our errors as private, friendly replies
    limits.py      per-member and global request limits, in Redis
    metrics.py     the bot's Prometheus metrics

It imports `implementor.contracts`, `implementor.config` and `implementor.store` (the database, the
job book, consent, datasets, versions, cards), nothing else of ours.
"""
