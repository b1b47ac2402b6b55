"""The aiosqlite adapter: same results as SQLAlchemy's, one trip to the thread per statement
outside a transaction and none inside one."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from storage.db import Database
from storage.schema import inbox
from tests.storage.conftest import inbox_row


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function handed to aiosqlite's thread."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_statements_in_a_transaction_run_inline_with_their_rows_and_counts(
    database: Database, trips: list[str]
) -> None:
    async with database.transaction() as connection:
        assert trips == []  # BEGIN IMMEDIATE too: nobody else holds the write lock
        inserted = await connection.execute(insert(inbox).values(inbox_row("m1")))
        assert inserted.inserted_primary_key == (1,)
        many = await connection.execute(insert(inbox), [inbox_row("m2"), inbox_row("m3")])
        assert many.rowcount == 2
        changed = await connection.execute(
            update(inbox).where(inbox.c.message_id != "m1").values(chat_id="h")
        )
        assert changed.rowcount == 2
        rows = (await connection.execute(select(inbox.c.message_id).order_by(inbox.c.id))).all()
        assert [row.message_id for row in rows] == ["m1", "m2", "m3"]
        assert trips == []
    assert "commit" in trips  # the fsync, on the thread


async def test_reads_outside_a_transaction_are_one_trip_each(
    database: Database, trips: list[str]
) -> None:
    async with database.transaction() as connection:
        await connection.execute(insert(inbox), [inbox_row("m1"), inbox_row("m2")])
    async with database.reading() as connection:
        trips.clear()
        rows = (await connection.execute(select(inbox.c.message_id).order_by(inbox.c.id))).all()
        count = (await connection.execute(text("SELECT count(*) FROM inbox"))).scalar()
    assert [row.message_id for row in rows] == ["m1", "m2"] and count == 2
    assert trips[:2] == ["_run", "_run"]  # (then SQLAlchemy resets the isolation level)
    assert "rollback" not in trips  # no transaction is open, so nothing to roll back


async def test_only_an_open_transaction_costs_a_rollback_trip(
    database: Database, trips: list[str]
) -> None:
    async with database.transaction() as connection:
        await connection.execute(insert(inbox).values(inbox_row("m1")))
        trips.clear()
    assert trips == ["commit"]  # the pool's reset after COMMIT finds nothing to roll back
    trips.clear()

    async def failing() -> None:
        async with database.transaction() as connection:
            await connection.execute(insert(inbox).values(inbox_row("m2")))
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError):
        await failing()
    assert "rollback" in trips
    async with database.reading() as connection:
        rows = (await connection.execute(select(inbox.c.message_id))).all()
    assert [row.message_id for row in rows] == ["m1"]


async def test_a_failing_statement_inline_rolls_back_the_whole_transaction(
    database: Database,
) -> None:
    async def insert_twice() -> None:
        async with database.transaction() as connection:
            await connection.execute(insert(inbox).values(inbox_row("m1")))
            await connection.execute(insert(inbox).values(inbox_row("m1")))

    with pytest.raises(IntegrityError):
        await insert_twice()
    async with database.reading() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM inbox"))).scalar()
    assert count == 0


async def test_database_errors_keep_their_sqlalchemy_types(database: Database) -> None:
    async with database.transaction() as connection:
        await connection.execute(insert(inbox).values(inbox_row("m1")))
    with pytest.raises(IntegrityError):
        async with database.transaction() as connection:
            await connection.execute(insert(inbox).values(inbox_row("m1")))
    async with database.reading() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM inbox"))).scalar()
    assert count == 1


async def test_a_lost_connection_is_a_disconnect_sqlalchemy_replaces(database: Database) -> None:
    async with database.reading() as connection:
        raw = await connection.get_raw_connection()
        await raw.driver_connection.stop()  # aiosqlite lost its connection under SQLAlchemy
        with pytest.raises(OperationalError):
            await connection.execute(text("SELECT 1"))
        assert connection.invalidated
    async with database.reading() as connection:  # the pool hands out a fresh one
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1


async def test_without_wal_statements_in_a_transaction_stay_on_the_thread(
    database: Database, trips: list[str]
) -> None:
    async with database.transaction() as connection:
        adapter = (await connection.get_raw_connection()).dbapi_connection
        assert adapter is not None and adapter.inline_in_transaction  # WAL: inline
        adapter.inline_in_transaction = False  # what storage/db.py does when WAL is refused
        trips.clear()
        await connection.execute(insert(inbox).values(inbox_row("m1")))
        assert trips == ["_run"]


async def test_begin_waits_on_the_thread_while_another_connection_writes(
    database: Database, trips: list[str], tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "storage.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    loop = asyncio.get_running_loop()
    loop.call_later(0.2, other.execute, "COMMIT")  # and lets go of it soon
    try:
        async with database.transaction() as connection:
            await connection.execute(insert(inbox).values(inbox_row("m1")))
            raw = await connection.get_raw_connection()
            timeout = raw.driver_connection._conn.execute("PRAGMA busy_timeout").fetchone()
    finally:
        other.close()
    assert trips[0] == "_run"  # the BEGIN that waited for the lock, on the thread
    assert timeout == (10000,)  # the try at once left the busy timeout as it was
    async with database.reading() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM inbox"))).scalar()
    assert count == 1


async def test_a_begin_that_fails_otherwise_raises_and_keeps_the_busy_timeout(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.sqlite_driver as driver

    run = driver._run
    failed_on: list[sqlite3.Connection] = []

    def failing(raw: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Any:
        if operation == "BEGIN IMMEDIATE":
            failed_on.append(raw)
            error = sqlite3.OperationalError("database table is locked")
            error.sqlite_errorcode = 262  # SQLITE_LOCKED_SHAREDCACHE: not "busy", so no retry
            raise error
        return run(raw, operation, parameters, many)

    monkeypatch.setattr(driver, "_run", failing)
    with pytest.raises(OperationalError, match="table is locked"):
        async with database.transaction():
            pass
    monkeypatch.setattr(driver, "_run", run)
    async with database.transaction() as connection:
        raw = (await connection.get_raw_connection()).driver_connection._conn
        timeout = raw.execute("PRAGMA busy_timeout").fetchone()
        await connection.execute(insert(inbox).values(inbox_row("m1")))
    assert failed_on == [raw]  # the same pooled connection, tried inline once
    assert timeout == (10000,)
