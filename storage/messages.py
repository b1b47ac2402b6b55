"""The durable inbox: one row per platform message, so a redelivered message is skipped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bot.events import Platform
from bot.ports import OWN_KEY_PREFIX, InboxKey
from storage.db import Database
from storage.schema import inbox

_RECORD_NEW = {
    name: dialect.insert(inbox)
    .on_conflict_do_nothing()
    .returning(inbox.c.platform, inbox.c.chat_id, inbox.c.message_id)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}


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
        async with self._db.transaction(touches=(inbox,)) as connection:
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

    async def record_many(self, keys: Sequence[InboxKey], at: datetime) -> list[bool]:
        """Store many keys in one statement; True for each key seen here for the first time.

        A key repeated within `keys` counts as new only at its first position.
        """
        if not keys:
            return []
        # Plain tuples, not InboxKeys: a batch hashes and compares each key a few times.
        wanted = [(k.platform.value, k.chat_id, k.message_id) for k in keys]
        rows = [
            {"platform": platform, "chat_id": chat_id, "message_id": message_id, "received_at": at}
            for platform, chat_id, message_id in dict.fromkeys(wanted)
        ]
        async with self._db.transaction(touches=(inbox,)) as connection:
            name = connection.dialect.name
            if name not in ("sqlite", "postgresql"):
                return [await self.record(k.platform, k.chat_id, k.message_id, at) for k in keys]
            # A list of parameter sets: SQLAlchemy sends it as multi-row INSERTs
            # ("insertmanyvalues") with RETURNING, without building a statement per row.
            result = await connection.execute(_RECORD_NEW[name], rows)
            inserted = {tuple(row) for row in result}
        fresh: list[bool] = []
        for key in wanted:
            fresh.append(key in inserted)
            inserted.discard(key)
        return fresh

    async def prune(self, before: datetime, limit: int) -> int:
        """Forget up to `limit` platform messages received before `before`; Linli's own
        "already said" records stay. Returns how many were deleted."""
        old = (inbox.c.received_at < before) & ~inbox.c.message_id.startswith(OWN_KEY_PREFIX)
        return await self._db.delete_some(inbox, old, limit)
