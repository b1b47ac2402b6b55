"""The database handle: engine set-up, SQLite pragmas, and the shared unit of work."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, event, insert, select
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
# Rows appended to write-only tables (history, due actions, outbox) in the current
# transaction and not yet sent to the database: see `Database.append`.
_appended: contextvars.ContextVar[dict[Table, list[Mapping[str, object]]] | None] = (
    contextvars.ContextVar("linli_appended", default=None)
)


logger = logging.getLogger(__name__)


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers, FULL sync so a commit survives power loss, BEGIN IMMEDIATE."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions start (so we can say IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        (mode,) = cursor.fetchone()
        if mode.lower() not in ("wal", "memory") and hasattr(
            dbapi_connection, "inline_in_transaction"
        ):
            # Without WAL a statement inside a transaction can wait for readers' locks: keep
            # every statement on aiosqlite's thread (storage/sqlite_driver.py).
            dbapi_connection.inline_in_transaction = False
            logger.warning("SQLite journal mode is %r, not WAL: writes will be slower", mode)
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
        options: dict[str, Any] = {}
        if parsed.drivername == "sqlite+aiosqlite":
            from storage.sqlite_driver import dbapi

            options["module"] = dbapi()
        self.engine = create_async_engine(url, **options)
        if self.is_sqlite:
            _prepare_sqlite(self.engine)
        self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def transaction(
        self, *, touches: Sequence[Table] | None = None
    ) -> AsyncIterator[AsyncConnection]:
        """Run the block in the current transaction, or in a new one committed at the end.

        `touches` names every table the block reads or writes; rows appended to those (or to
        any table, when `touches` is not given) are written first, so the block sees them.
        """
        current = _current.get()
        if current is not None:
            await self._flush(current, touches)
            yield current
            return
        callbacks: list[Callable[[], None]] = []
        async with self.engine.begin() as connection:
            token, hooks = _current.set(connection), _on_commit.set(callbacks)
            appended = _appended.set({})
            try:
                yield connection
                await self._flush(connection, None)
            finally:
                _current.reset(token)
                _on_commit.reset(hooks)
                _appended.reset(appended)
        for callback in callbacks:
            callback()

    async def append(self, table: Table, rows: Iterable[Mapping[str, object]]) -> None:
        """Insert rows nobody needs an id of, at the latest when the transaction commits.

        Inside a transaction the rows wait, and all rows of a table go in one executemany
        when the transaction commits or when a block that touches the table starts (see
        `transaction`, `reading`): a batch of messages writes its history, due actions and
        outbox rows in one statement per table instead of one per row.
        """
        pending = _appended.get()  # set exactly while a transaction is open
        if pending is None:
            async with self.transaction() as connection:
                await connection.execute(insert(table), list(rows))
            return
        pending.setdefault(table, []).extend(rows)

    async def delete_some(self, table: Table, where: ColumnElement[bool], limit: int) -> int:
        """Delete up to `limit` rows of `table` (by its `id`) that match `where`, in a
        transaction of their own unless one is open; how many were deleted. Housekeeping
        deletes in such slices so that it never holds the write lock for long."""
        chosen = select(table.c.id).where(where).limit(limit)
        async with self.transaction(touches=(table,)) as connection:
            result = await connection.execute(delete(table).where(table.c.id.in_(chosen)))
        return int(result.rowcount)

    async def _flush(self, connection: AsyncConnection, touches: Sequence[Table] | None) -> None:
        pending = _appended.get()
        if not pending:
            return
        tables = list(pending) if touches is None else [t for t in touches if t in pending]
        for table in tables:
            # One executemany per run of rows with the same columns (an executemany takes its
            # columns from the first row), in the order they were appended.
            for _, rows in groupby(pending.pop(table), key=lambda row: sorted(row)):
                await connection.execute(insert(table), list(rows))

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
        # Rows appended before the savepoint belong to the outer transaction: write them now,
        # so that rolling back to the savepoint drops exactly the block's own rows.
        await self._flush(current, None)
        try:
            async with current.begin_nested():
                yield
                await self._flush(current, None)
        except BaseException:
            pending = _appended.get()
            if pending is not None:
                pending.clear()
            raise

    @asynccontextmanager
    async def reading(
        self, *, touches: Sequence[Table] | None = None
    ) -> AsyncIterator[AsyncConnection]:
        """A connection for reads: the current transaction's, else a short-lived one.

        `touches` as for `transaction`: appended rows of those tables are written first.
        """
        current = _current.get()
        if current is not None:
            await self._flush(current, touches)
            yield current
            return
        async with self._reader.connect() as connection:
            yield connection

    async def close(self) -> None:
        """Release every pooled connection."""
        await self.engine.dispose()
