"""The database handle: engine set-up, SQLite pragmas, and the shared unit of work."""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

# The connection of the transaction in progress in this task, so that every repository called
# while one message is handled writes into that one transaction (inbox, ticket, outbox).
_current: contextvars.ContextVar[AsyncConnection | None] = contextvars.ContextVar(
    "linli_connection", default=None
)
# Callbacks to run once the current outermost transaction has committed (e.g. waking the
# outbox dispatcher, which must not look for rows that are not visible yet).
_on_commit: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "linli_on_commit", default=None
)


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers, FULL sync so a commit survives power loss, BEGIN IMMEDIATE."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions start (so we can say IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        # Take the write lock up front: a deferred transaction that later writes can fail with
        # SQLITE_BUSY instead of waiting, which would lose the message being handled.
        # Readers run in autocommit and never take it.
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the engine; `transaction()` joins the current unit of work or opens one."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_async_engine(url)
        if self.is_sqlite:
            _prepare_sqlite(self.engine)
        self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """Run the block in the current transaction, or in a new one committed at the end."""
        current = _current.get()
        if current is not None:
            yield current
            return
        callbacks: list[Callable[[], None]] = []
        async with self.engine.begin() as connection:
            token, hooks = _current.set(connection), _on_commit.set(callbacks)
            try:
                yield connection
            finally:
                _current.reset(token)
                _on_commit.reset(hooks)
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` when the current transaction commits (at once if there is none)."""
        pending = _on_commit.get()
        if pending is None:
            callback()
        else:
            pending.append(callback)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction inside the current one: rolled back alone if the block fails."""
        current = _current.get()
        if current is None:
            raise RuntimeError("savepoint() needs an open transaction")
        async with current.begin_nested():
            yield

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads: the current transaction's, else a short-lived one."""
        current = _current.get()
        if current is not None:
            yield current
            return
        async with self._reader.connect() as connection:
            yield connection

    async def close(self) -> None:
        """Release every pooled connection."""
        await self.engine.dispose()
