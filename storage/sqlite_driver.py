"""aiosqlite for SQLAlchemy, with one trip to aiosqlite's thread per statement.

SQLAlchemy's aiosqlite adapter makes three or four trips to aiosqlite's worker thread for every
statement: open a cursor, execute, fetch the rows, close the cursor. Each trip costs the event
loop a future, a queue hand-off and a wake-up (about 20 µs of CPU and more of waiting). This
adapter does the four steps in one function run on that same thread, as aiosqlite's own
`execute_fetchall` does. Everything else (the dialect, transactions, pooling, error types) is
SQLAlchemy's aiosqlite support unchanged; `Database` passes this module to the engine.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from threading import Thread
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import await_only

# What one statement left behind: description, rows, lastrowid, rowcount.
_Outcome = tuple[Any, list[Any] | None, int, int]


def _run(raw: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """Run one statement to completion on aiosqlite's thread (the one that owns `raw`)."""
    cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.lastrowid or 0, cursor.rowcount
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose execute and executemany each make one trip to the thread."""

    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._complete(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._complete(operation, seq_of_parameters, many=True)

    def _complete(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection = self._connection
        try:
            outcome: _Outcome = self.await_(
                connection._execute(_run, connection._conn, operation, parameters, many)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        description, rows, lastrowid, rowcount = outcome
        if description:
            self.description = description
            self.lastrowid = self.rowcount = -1
            self._rows = deque(rows or ())
        else:
            self.description = None
            self.lastrowid = lastrowid
            self.rowcount = rowcount


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection adapter, handing out one-trip cursors."""

    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return super().cursor(server_side=True)
        return OneTripCursor(self)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect uses, connecting with the adapter above."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        kw.pop("async_fallback", None)
        creator = kw.pop("async_creator_fn", None)
        connection = creator(*arg, **kw) if creator else aiosqlite.connect(*arg, **kw)
        thread = connection if isinstance(connection, Thread) else connection._thread
        thread.daemon = True  # as SQLAlchemy does: never keep the process alive
        return OneTripConnection(self, await_only(connection))


def dbapi() -> OneTripDBAPI:
    """The module to pass as `create_async_engine(url, module=...)` for sqlite+aiosqlite."""
    return OneTripDBAPI(aiosqlite, sqlite3)
