"""The aiosqlite adapter: same results as SQLAlchemy's, one trip to the thread per statement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.migrate import upgrade
from storage.schema import inbox

AT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def _row(message_id: str) -> dict[str, object]:
    return {"platform": "console", "chat_id": "g", "message_id": message_id, "received_at": AT}


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    await upgrade(db)
    yield db
    await db.close()


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


async def test_each_statement_is_one_trip_with_its_rows_and_counts(
    database: Database, trips: list[str]
) -> None:
    async with database.transaction() as connection:
        trips.clear()
        inserted = await connection.execute(insert(inbox).values(_row("m1")))
        assert inserted.inserted_primary_key == (1,)
        many = await connection.execute(insert(inbox), [_row("m2"), _row("m3")])
        assert many.rowcount == 2
        changed = await connection.execute(
            update(inbox).where(inbox.c.message_id != "m1").values(chat_id="h")
        )
        assert changed.rowcount == 2
        rows = (await connection.execute(select(inbox.c.message_id).order_by(inbox.c.id))).all()
        assert [row.message_id for row in rows] == ["m1", "m2", "m3"]
        assert trips == ["_run"] * 4


async def test_database_errors_keep_their_sqlalchemy_types(database: Database) -> None:
    async with database.transaction() as connection:
        await connection.execute(insert(inbox).values(_row("m1")))
    with pytest.raises(IntegrityError):
        async with database.transaction() as connection:
            await connection.execute(insert(inbox).values(_row("m1")))
    async with database.reading() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM inbox"))).scalar()
    assert count == 1
