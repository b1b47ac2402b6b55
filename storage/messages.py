"""The durable inbox: one row per platform message, so a redelivered message is skipped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bot.events import Platform
from storage.db import Database
from storage.schema import inbox


class SqlInboxRepository:
    """Records (platform, chat, message id) before any side effect of the message."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def record(self, platform: Platform, chat_id: str, message_id: str, at: datetime) -> bool:
        """Store the key; False when it was already there (a repeat to be skipped)."""
        values = {
            "platform": platform.value,
            "chat_id": chat_id,
            "message_id": message_id,
            "received_at": at,
        }
        async with self._db.transaction() as connection:
            # One INSERT .. ON CONFLICT DO NOTHING (SQLite and PostgreSQL both speak it): the
            # row count says whether this message is new, without a read-then-write race.
            name = connection.dialect.name
            if name in ("sqlite", "postgresql"):
                insert = sqlite.insert if name == "sqlite" else postgresql.insert
                statement = insert(inbox).values(**values).on_conflict_do_nothing()
                result = await connection.execute(statement)
                return result.rowcount == 1
            try:
                async with connection.begin_nested():
                    await connection.execute(inbox.insert().values(**values))
            except IntegrityError:
                return False
        return True
