"""The store on PostgreSQL: psycopg 3's async connection pool behind the store's connection interface.

Why psycopg 3 (not asyncpg): it keeps DB-API semantics close to what the SQLite code already does (a cursor,
`execute(sql, args)`, `rowcount`, rows as tuples, positional placeholders, Python's own types for bytes and
floats), so one query layer (`connection.py`) serves both engines with each query written once; asyncpg's
`$1` placeholders, its `Record`s and its status strings would need a second spelling of every query.
`psycopg-pool` gives each statement a connection of its own while others wait on the network, and replaces
one that the server dropped (a restart, a failover), so a bot process outlives its database's restarts.

Every statement runs in autocommit: it commits by itself, as each store method's `commit()` expects (there
it does nothing). What must hold together runs in `transaction()`, on one connection; given `lock`, it first
takes a transaction-scoped advisory lock, which keeps two `implementor migrate` runs from migrating twice.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from implementor.contracts.errors import DataError
from implementor.store.connection import Database, Rows, ddl_for_postgres, redacted

POOL_SIZE = 4  # a bot process's coroutines rarely wait on more than a few statements at once
CONNECT_TIMEOUT_S = 10.0


@functools.lru_cache(maxsize=512)
def placeholders(sql: str) -> str:
    """The store's `?` placeholders as psycopg's `%s` (a literal `%` doubled so that it stays one)."""
    return sql.replace("%", "%%").replace("?", "%s")


async def _run_on(conn: psycopg.AsyncConnection[Any], sql: str, args: tuple[Any, ...]) -> Rows:
    cursor = await conn.execute(placeholders(sql), args)
    rows = list(await cursor.fetchall()) if cursor.description else []
    return Rows(rows, cursor.rowcount)


class _OneConnection(Database):
    """The statements of one transaction, on the connection that holds it."""

    dialect = "postgresql"

    def __init__(self, conn: psycopg.AsyncConnection[Any], url: str) -> None:
        self.conn, self.url = conn, url

    async def run(self, sql: str, args: tuple[Any, ...]) -> Rows:
        return await _run_on(self.conn, sql, args)

    async def commit(self) -> None:
        return None  # the transaction commits as it ends

    async def rollback(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def transaction(self, lock: int | None = None) -> Any:
        raise RuntimeError("a transaction is open on this connection already")

    async def columns(self, table: str) -> set[str]:
        return await _columns(self, table)

    def ddl(self, statement: str) -> str:
        return ddl_for_postgres(statement)


async def _columns(db: Database, table: str) -> set[str]:
    rows = await db.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                            "AND table_schema = current_schema()", (table,))
    return {str(row[0]) for row in rows.rows}


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, pool: AsyncConnectionPool[Any], url: str) -> None:
        self.pool, self.url = pool, url

    async def run(self, sql: str, args: tuple[Any, ...]) -> Rows:
        async with self.pool.connection() as conn:
            return await _run_on(conn, sql, args)

    async def commit(self) -> None:
        return None  # every statement committed as it ran (autocommit)

    async def rollback(self) -> None:
        return None

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def transaction(self, lock: int | None = None) -> AsyncIterator[Database]:
        async with self.pool.connection() as conn, conn.transaction():
            if lock is not None:
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
            yield _OneConnection(conn, self.url)

    async def columns(self, table: str) -> set[str]:
        return await _columns(self, table)

    def ddl(self, statement: str) -> str:
        return ddl_for_postgres(statement)


async def open_pool(url: str) -> PostgresDatabase:
    """A pool of autocommit connections to the PostgreSQL store at `url`, its first connection made (so that a
    wrong address or password is said now, in one line, not on the first request)."""
    try:  # one plain connection first: the pool's own failure would only say that it timed out
        probe = await psycopg.AsyncConnection.connect(url, connect_timeout=int(CONNECT_TIMEOUT_S))
        await probe.close()
    except (psycopg.Error, OSError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DataError(f"cannot reach the PostgreSQL store {redacted(url)}: {redacted(reason)}") from None
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True}, open=False, timeout=CONNECT_TIMEOUT_S)
    await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
    return PostgresDatabase(pool, redacted(url))
