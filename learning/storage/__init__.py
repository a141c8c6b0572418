"""What the learner keeps and the bot and the workers read too: the torch-free part of `learning`.

    sqlite.py       how every process opens the bot's shared SQLite file (WAL, busy timeout), backups
    bot_tables.py   the bot's `jobs` and `feedback` tables, defined where the learner can read a posted reply
    consent.py      which channels an admin enabled, who opted out, how far each was read (the same file)
    datasets.py     the harvested sets on disk (JSONL), appended once per message, forgotten per member
    versions.py     versions side by side, the live one's pointer, promotions and rollbacks on record
    cards.py        the colleague's models as `/help` shows them, from their cards

Room: `learning.storage`. It imports `contracts` and `config` only: never torch, `models`, discord.py or
the rest of `learning`, so that the bot (`/learn`, its store, `/help`) and the workers (following the
live version) may import it; `tests/test_architecture.py` holds it to that.
"""
