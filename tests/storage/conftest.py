"""A migrated database in a temporary folder, and inbox rows to write into it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.db import Database
from storage.migrate import upgrade

AT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def inbox_row(message_id: str) -> dict[str, object]:
    """One inbox row (a table with no foreign keys)."""
    return {"platform": "console", "chat_id": "g", "message_id": message_id, "received_at": AT}


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'storage.db'}")
    await upgrade(db)
    yield db
    await db.close()
