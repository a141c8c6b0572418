"""The settings of a bot that outgrew one process: where the store is, which Discord shards a process serves,
and how long its claims on jobs last. `Settings` (`settings.py`) takes them in, with the same prefix.

One spelling each: `IMPLEMENTOR_STORE_URL` (PostgreSQL, or SQLite by URL or path), `IMPLEMENTOR_SHARD_COUNT`
with `IMPLEMENTOR_SHARD_IDS` (a comma list), or `IMPLEMENTOR_SHARD_ORDINAL_FROM_HOSTNAME=1` for a StatefulSet's
pods (`bot-0`, `bot-1`, ... each serving the shard of its ordinal, the count being the replicas).
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from implementor.contracts.errors import ConfigError


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard Discord serves a server on (its formula); direct messages come to shard 0."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


class ScaleOut(BaseSettings):
    bot_store_path: Path = Field(
        Path("implementor.sqlite3"), description="SQLite file for the roster, feedback and job ledger "
        "(the embedded default; IMPLEMENTOR_STORE_URL, when set, wins)."
    )
    store_url: SecretStr | None = Field(
        None, description="The store: `postgresql://user:pass@host:5432/db` for several bot processes, the learner "
        "and beat on any hosts (migrate it once with `implementor migrate`), or `sqlite:///path/to/bot.sqlite3` "
        "(or a plain path). Empty: the SQLite file IMPLEMENTOR_BOT_STORE_PATH."
    )
    shard_count: int = Field(1, ge=1, le=10_000, description="Discord shards of the whole bot (all its processes); "
                             "a server is on shard (server id >> 22) % count, direct messages on shard 0.")
    shard_ids: str | None = Field(None, pattern=r"^\s*\d+(\s*,\s*\d+)*\s*$", description="The shards this bot "
                                  "process serves, a comma list (`0,1`). Empty: every shard, or the host's ordinal.")
    shard_ordinal_from_hostname: bool = Field(False, description="Serve the shard numbered like this host (a "
                                              "StatefulSet pod `bot-2` serves shard 2; the count is the replicas).")
    claim_lease_s: float = Field(
        30.0, ge=5, le=600, description="Seconds a bot process's claim on its open jobs lasts unrenewed (it renews "
        "them every pass): another process takes over a dead one's jobs after this long."
    )

    @property
    def store_target(self) -> str:
        """Where the store is: IMPLEMENTOR_STORE_URL, else the SQLite file IMPLEMENTOR_BOT_STORE_PATH."""
        return self.store_url.get_secret_value() if self.store_url is not None else str(self.bot_store_path)

    def shards(self, hostname: str | None = None) -> tuple[int, ...]:
        """The shards this process serves (see the module docstring); a ConfigError says what does not fit."""
        if self.shard_ordinal_from_hostname:
            name = hostname or socket.gethostname()
            found = re.search(r"-(\d+)$", name)
            if found is None:
                raise ConfigError(f"IMPLEMENTOR_SHARD_ORDINAL_FROM_HOSTNAME: the host name {name!r} ends in no "
                                  "ordinal (a StatefulSet's pod is named like bot-2)")
            ids: tuple[int, ...] = (int(found.group(1)),)
        elif self.shard_ids:
            ids = tuple(int(p) for p in self.shard_ids.split(","))
        else:
            ids = tuple(range(self.shard_count))
        if len(set(ids)) != len(ids) or max(ids) >= self.shard_count:
            raise ConfigError(f"the shards {list(ids)} do not fit IMPLEMENTOR_SHARD_COUNT={self.shard_count} "
                              f"(distinct numbers from 0 to {self.shard_count - 1})")
        return ids
