"""Rows appended to write-only tables wait for the transaction, yet are never lost or seen late.

`Database.append` holds history, due-action and outbox rows until the transaction commits or
until a block that touches their table starts; a savepoint that fails drops its own rows only.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.schema import inbox
from tests.storage.conftest import inbox_row


async def _count(db: Database) -> int:
    async with db.reading() as connection:
        return int((await connection.execute(select(func.count()).select_from(inbox))).scalar())


async def _ids(db: Database) -> list[str]:
    async with db.reading(touches=(inbox,)) as connection:
        rows = await connection.execute(select(inbox.c.message_id).order_by(inbox.c.id))
        return [row.message_id for row in rows]


async def _append_then_fail(db: Database, block: AbstractAsyncContextManager[object]) -> None:
    async with block:
        await db.append(inbox, [inbox_row("failed")])
        raise RuntimeError("a handler failed")


async def test_appended_rows_are_written_in_order_at_commit(database: Database) -> None:
    async with database.transaction():
        await database.append(inbox, [inbox_row("m1")])
        await database.append(inbox, [inbox_row("m2"), inbox_row("m3")])
    assert await _ids(database) == ["m1", "m2", "m3"]


async def test_a_block_touching_the_table_sees_the_rows_appended_before_it(
    database: Database,
) -> None:
    async with database.transaction():
        await database.append(inbox, [inbox_row("m1")])
        assert await _ids(database) == ["m1"]
        await database.append(inbox, [inbox_row("m2")])
        # Not declared as touching the inbox: the row still waits (and is not lost).
        async with database.reading(touches=()) as connection:
            await connection.execute(select(1))
        # Declaring nothing writes everything first.
        assert await _count(database) == 2


async def test_a_failed_transaction_writes_none_of_its_appended_rows(database: Database) -> None:
    with pytest.raises(RuntimeError):
        await _append_then_fail(database, database.transaction())
    assert await _count(database) == 0


async def test_a_failed_savepoint_drops_only_its_own_rows(database: Database) -> None:
    async with database.transaction():
        await database.append(inbox, [inbox_row("before")])
        with pytest.raises(RuntimeError):
            await _append_then_fail(database, database.savepoint())
        async with database.savepoint():
            await database.append(inbox, [inbox_row("kept")])
        await database.append(inbox, [inbox_row("after")])
    assert await _ids(database) == ["before", "kept", "after"]


async def test_outside_a_transaction_rows_are_written_at_once(database: Database) -> None:
    await database.append(inbox, [inbox_row("m1")])
    assert await _ids(database) == ["m1"]


async def test_rows_with_different_columns_keep_every_value(database: Database) -> None:
    async with database.transaction():
        await database.append(inbox, [inbox_row("m1")])
        await database.append(inbox, [{**inbox_row("m2"), "id": 50}])  # one more column
        await database.append(inbox, [inbox_row("m3")])
    async with database.reading() as connection:
        rows = await connection.execute(select(inbox.c.id, inbox.c.message_id))
        ids = {row.message_id: row.id for row in rows}
    assert ids["m2"] == 50 and set(ids) == {"m1", "m2", "m3"}
