"""Migrations build exactly the schema that storage/schema.py declares, and re-run safely."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.migrate import head_revision, upgrade
from storage.schema import metadata


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_upgrade_matches_schema_and_is_idempotent(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        assert await upgrade(database) == head_revision()
        assert await upgrade(database) == head_revision()
        async with database.engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"inbox", "outbox", "tickets", "ticket_events"} <= tables
    finally:
        await database.close()


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    from sqlalchemy import text

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    try:
        await upgrade(database)
        async with database.transaction() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
            sync = (await connection.execute(text("PRAGMA synchronous"))).scalar()
        assert mode == "wal" and sync == 2  # 2 = FULL
    finally:
        await database.close()
