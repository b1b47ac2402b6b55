"""The durable inbox: one row per platform message, so a redelivered message is skipped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
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
        async with self._db.transaction() as connection:
            seen = await connection.execute(
                select(inbox.c.id).where(
                    inbox.c.platform == platform.value,
                    inbox.c.chat_id == chat_id,
                    inbox.c.message_id == message_id,
                )
            )
            if seen.first() is not None:
                return False
            try:
                async with connection.begin_nested():
                    await connection.execute(
                        inbox.insert().values(
                            platform=platform.value,
                            chat_id=chat_id,
                            message_id=message_id,
                            received_at=at,
                        )
                    )
            except IntegrityError:
                # A concurrent writer (another process on PostgreSQL) recorded it first.
                return False
        return True
