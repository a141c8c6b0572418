"""The store: what the colleague keeps, shared by the bot, the workers and the learner (torch-free).

    sqlite.py      how every process opens the shared SQLite file (WAL, busy timeout), backups
    database.py    `Store`: the one handle on the database; the roster (colleagues), the notes, ratings
    migrations.py  the schema: every table, as numbered migrations applied once and recorded
    jobbook.py     the book of jobs: every accepted request and how far it got (every query on `jobs`),
                   a stored result typed back, the learner's query for a posted reply and its ratings
    consent.py     which channels an admin enabled, who opted out, how far each was read
    datasets.py    the harvested sets on disk (JSONL), appended once per message, forgotten per member
    versions.py    model versions side by side, the live one's pointer, promotions and rollbacks on record
    live.py        the live heads' resolver (promoted, else configured, else bundled)
    cards.py       the colleague's models as `/help` shows them, from their cards

Room: `implementor.store`. It imports `contracts` and `config` only: never torch, the models,
discord.py, the bot or the learner, so that all of them may import it (`tests/test_architecture.py`).
"""
