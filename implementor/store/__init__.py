"""The store: what the colleague keeps, shared by the bot, the workers and the learner (torch-free).

    connection.py  the one connection interface over both backends, so that each query is written once
    sqlite.py      how every process opens the shared SQLite file (WAL, busy timeout), backups
    postgres.py    the store on PostgreSQL (psycopg 3's async pool), for several processes on several hosts
    opening.py     opening the store by its address (`IMPLEMENTOR_STORE_URL`), migrated or checked; migrating
    database.py    `Store`: the one handle on the database; the roster (colleagues), the notes, ratings
    migrations.py  the schema: every table, as numbered migrations applied once and recorded
    jobbook.py     the book of jobs: every accepted request and how far it got, claimed by one bot process
                   at a time under a lease; a stored result typed back
    replies.py     the learner's query for a posted reply and its ratings
    leases.py      named leases: a duty for one bot process at a time (the command sync)
    consent.py     which channels an admin enabled, who opted out, how far each was read
    datasets.py    the harvested sets on disk (JSONL), appended once per message, forgotten per member
    versions.py    model versions side by side, the live one's pointer, promotions and rollbacks on record
    live.py        the live heads' resolver (promoted, else configured, else bundled)
    cards.py       the colleague's models as `/help` shows them, from their cards

Room: `implementor.store`. It imports `contracts` and `config` only: never torch, the models,
discord.py, the bot or the learner, so that all of them may import it (`tests/test_architecture.py`).
"""
