"""Run-time bindings of platform chats to configured groups (`/bind`, migrations, removals)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update

from bot.events import Platform
from storage.db import Database
from storage.schema import group_bindings


class SqlBindingRepository:
    """Stores which platform chat serves which group, and which chats the bot was removed from."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def bind(
        self, platform: Platform, chat_id: str, group_id: str, by: str, at: datetime
    ) -> None:
        """Bind (or re-bind) a chat to a group."""
        async with self._db.transaction() as connection:
            await connection.execute(
                delete(group_bindings).where(
                    group_bindings.c.platform == platform.value,
                    group_bindings.c.chat_id == chat_id,
                )
            )
            await connection.execute(
                insert(group_bindings).values(
                    platform=platform.value,
                    chat_id=chat_id,
                    group_id=group_id,
                    active=True,
                    bound_by=by,
                    bound_at=at,
                )
            )

    async def deactivate(self, platform: Platform, chat_id: str, at: datetime) -> None:
        """Remember that nothing may be sent to this chat any more."""
        async with self._db.transaction() as connection:
            await connection.execute(
                update(group_bindings)
                .where(
                    group_bindings.c.platform == platform.value,
                    group_bindings.c.chat_id == chat_id,
                )
                .values(active=False, bound_at=at)
            )
            found = await connection.execute(
                select(group_bindings.c.chat_id).where(
                    group_bindings.c.platform == platform.value,
                    group_bindings.c.chat_id == chat_id,
                )
            )
            if found.first() is None:
                await connection.execute(
                    insert(group_bindings).values(
                        platform=platform.value,
                        chat_id=chat_id,
                        group_id="",
                        active=False,
                        bound_by="platform",
                        bound_at=at,
                    )
                )

    async def all(self) -> list[tuple[Platform, str, str, bool]]:
        """Every stored binding: (platform, chat id, group id, active)."""
        async with self._db.reading() as connection:
            rows = (await connection.execute(select(group_bindings))).all()
        return [(Platform(r.platform), r.chat_id, r.group_id, r.active) for r in rows]
