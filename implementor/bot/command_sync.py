"""Registering the slash commands with Discord: globally when the command tree changed, or to one server.

Discord keeps the commands a bot registered; a server that invites the bot sees only those. A global
sync (one bulk overwrite) is rate limited and takes a while to reach every client, so the bot does it
only when the tree differs from the last one it registered: it keeps a hash of the tree's JSON in its
store (`meta` table, key `commands.global`). A restart with the same commands sends nothing.

Several bot processes starting at once (a sharded bot) sync once: the check-sync-record runs under the
store's named lease `commands.sync` (`store/leases.py`). One process takes it and syncs; the others wait
until it is given back (or runs out, if its holder died), then find the hash recorded and send nothing.

With `IMPLEMENTOR_DEV_GUILD_ID` set, the bot syncs to that server only, at every start (instant, and
free of the global rate limit), and leaves the global commands alone. `implementor bot sync` forces a
sync, globally or to `--guild ID`, for an operator who changed the application in the portal.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from typing import Any, Protocol

import discord
from discord import app_commands

log = logging.getLogger(__name__)
GLOBAL_KEY = "commands.global"
SYNC_LEASE, SYNC_LEASE_S = "commands.sync", 60.0  # longer than a sync takes, even rate limited


class Meta(Protocol):
    """Where the last synced hash is kept (the bot's store)."""

    async def get_meta(self, key: str) -> str | None: ...

    async def set_meta(self, key: str, value: str) -> None: ...


class Lease(Protocol):
    """A named lease in the store, held by this process (`store.leases.Leases`)."""

    async def take(self, name: str, seconds: float) -> bool: ...

    async def give_back(self, name: str) -> None: ...


def tree_hash(tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None = None) -> str:
    """A hash of what a sync would send: every command's JSON, in a stable order."""
    payload = sorted((command.to_dict(tree) for command in tree.get_commands(guild=guild)),
                     key=lambda c: (c.get("type", 1), c["name"]))
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


async def sync(tree: app_commands.CommandTree[Any], meta: Meta, guild_id: int | None = None) -> int:
    """Sync now: to one server (its copy of the global commands), or globally, recording the hash."""
    if guild_id is not None:
        guild = discord.Object(id=guild_id)
        tree.copy_global_to(guild=guild)
        synced = await tree.sync(guild=guild)
        log.info("synced %d commands to the server %s", len(synced), guild_id)
        return len(synced)
    synced = await tree.sync()
    await meta.set_meta(GLOBAL_KEY, tree_hash(tree))
    log.info("synced %d commands globally (they may take up to an hour to reach every client)", len(synced))
    return len(synced)


async def sync_at_start(tree: app_commands.CommandTree[Any], meta: Meta, dev_guild_id: int | None,
                        lease: Lease | None = None, wait_s: float = 2 * SYNC_LEASE_S) -> int | None:
    """What the bot does at start-up: the development server every time, else globally if the tree changed,
    by one process at a time (`lease`; see the module docstring).

    Returns the number of commands synced, or None when nothing needed sending."""
    if dev_guild_id is not None:
        return await sync(tree, meta, dev_guild_id)
    deadline = time.monotonic() + wait_s
    while lease is not None and not await lease.take(SYNC_LEASE, SYNC_LEASE_S):
        if time.monotonic() > deadline:  # the store's lease is stuck: the hash check still spares a resend
            log.warning("another bot process has held the command sync for %.0f s; checking myself", wait_s)
            break
        await asyncio.sleep(0.25)
    try:
        if await meta.get_meta(GLOBAL_KEY) == tree_hash(tree):
            log.info("the slash commands are as last registered; not syncing")
            return None
        return await sync(tree, meta)
    finally:
        if lease is not None:
            await lease.give_back(SYNC_LEASE)
