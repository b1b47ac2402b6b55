"""aiosqlite for SQLAlchemy: one trip to aiosqlite's thread per statement, and none at all
for statements inside a write transaction.

SQLAlchemy's aiosqlite adapter makes three or four trips to aiosqlite's worker thread for every
statement: open a cursor, execute, fetch the rows, close the cursor. Each trip costs the event
loop a future, a queue hand-off and a wake-up (about 20 µs of CPU and more of waiting). This
adapter does the four steps in one function (`_run`), as aiosqlite's own `execute_fetchall`
does, and runs it:

- on aiosqlite's thread when the connection is not inside a transaction: autocommit reads
  (which may be long scans for digests), and `BEGIN IMMEDIATE` when another connection holds
  the write lock (it then waits up to busy_timeout). `BEGIN IMMEDIATE` is first tried right
  on the event loop with no busy timeout: when nobody else is writing, which is nearly always,
  it takes the lock at once, without a trip;
- right on the event loop when the connection is inside a transaction. That transaction began
  IMMEDIATE, so it already holds SQLite's write lock, and in WAL mode (`storage/db.py` sets it)
  no other connection can make its statements wait: the short, indexed statements of handling
  a message return in microseconds, less than a trip to the thread costs. What can wait stays
  on the thread: COMMIT (the fsync, and any checkpoint) and ROLLBACK go through aiosqlite's own
  `commit`/`rollback`. Long scans (digests, rates) are read before a write transaction opens,
  in autocommit (`bot/domain/digests.py`), so they too run on the thread.

The connection is used by one of the two threads at a time: SQLAlchemy awaits every operation
on a connection before starting the next, so `check_same_thread` is turned off (`connect`).
Everything else (the dialect, transactions, pooling, error types) is SQLAlchemy's aiosqlite
support unchanged; `Database` passes this module to the engine.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable
from threading import Thread
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import await_only

# What one statement left behind: description, rows, lastrowid, rowcount.
_Outcome = tuple[Any, list[Any] | None, int, int]
_T = TypeVar("_T")

_BEGIN = "BEGIN IMMEDIATE"
SQLITE_BUSY = 5


def _begin_at_once(raw: sqlite3.Connection) -> _Outcome | None:
    """`BEGIN IMMEDIATE` without waiting for the write lock; None when someone else holds it.

    The busy timeout is 0 for this one statement, and whatever it was afterwards.
    """
    (timeout,) = raw.execute("PRAGMA busy_timeout").fetchone()
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        return _run(raw, _BEGIN, None, False)
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF != SQLITE_BUSY:
            raise
        return None
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def _run(raw: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """Run one statement to completion (on aiosqlite's thread, or inline: see the module)."""
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


async def _on_loop(function: Callable[..., _T], *arguments: Any) -> _T:
    """`function` run on the event loop, as a coroutine: SQLAlchemy's async layer requires every
    statement to await something, and awaiting this costs a greenlet switch, not a trip."""
    return function(*arguments)


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose execute and executemany each make at most one trip to the
    thread: none inside a write transaction."""

    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._complete(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._complete(operation, seq_of_parameters, many=True)

    def _complete(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection = self._connection
        try:
            # Inside the try: a connection aiosqlite has lost raises here, and
            # _handle_exception turns that into the error SQLAlchemy treats as a disconnect.
            raw: sqlite3.Connection = connection._conn
            adapter = cast(OneTripConnection, self._adapt_connection)
            outcome: _Outcome | None = None
            if adapter.inline_in_transaction:
                if raw.in_transaction:
                    outcome = self.await_(_on_loop(_run, raw, operation, parameters, many))
                elif operation == _BEGIN and not many:
                    outcome = self.await_(_on_loop(_begin_at_once, raw))
            if outcome is None:
                outcome = self.await_(connection._execute(_run, raw, operation, parameters, many))
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
    """SQLAlchemy's aiosqlite connection adapter, handing out one-trip cursors.

    `inline_in_transaction` is cleared for a connection whose statements could wait even
    inside a transaction: one not in WAL mode (`storage/db.py` checks), or one made by a
    caller's own creator function (which may keep SQLite's same-thread check).
    """

    __slots__ = ("inline_in_transaction",)

    def __init__(self, dbapi: Any, connection: Any, *, inline_in_transaction: bool) -> None:
        super().__init__(dbapi, connection)
        self.inline_in_transaction = inline_in_transaction

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return super().cursor(server_side=True)
        return OneTripCursor(self)

    def rollback(self) -> None:
        """Roll back, without the trip to the thread when no transaction is open: the pool
        rolls back every connection returned to it, also right after a COMMIT, and in SQLite
        that rollback does nothing."""
        try:
            idle = not self._connection._conn.in_transaction
        except ValueError:  # no connection any more: let aiosqlite say so
            idle = False
        if not idle:
            super().rollback()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect uses, connecting with the adapter above."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        kw.pop("async_fallback", None)
        creator = kw.pop("async_creator_fn", None)
        if creator is not None:  # whoever creates the connection opens it their way
            connection = creator(*arg, **kw)
        else:
            # Statements in a transaction run on the event loop's thread, the rest on
            # aiosqlite's (see the module docstring); SQLAlchemy never uses a connection from
            # both at once.
            connection = aiosqlite.connect(*arg, **(kw | {"check_same_thread": False}))
        thread = connection if isinstance(connection, Thread) else connection._thread
        thread.daemon = True  # as SQLAlchemy does: never keep the process alive
        return OneTripConnection(
            self, await_only(connection), inline_in_transaction=creator is None
        )


def dbapi() -> OneTripDBAPI:
    """The module to pass as `create_async_engine(url, module=...)` for sqlite+aiosqlite."""
    return OneTripDBAPI(aiosqlite, sqlite3)
