"""Flow states per (platform, chat, user) in SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, select

from bot.domain.conversations import Conversation
from bot.events import ChatRef, UserRef
from storage.db import Database
from storage.schema import conversations

_BY_USERS = select(conversations).where(
    conversations.c.user_id.in_(bindparam("users", expanding=True))
)

_EXPIRED = delete(conversations).where(conversations.c.expires_at <= bindparam("now"))
# One (platform, chat, user): built once, executed with _key()'s values.
_ONE = (
    conversations.c.platform == bindparam("platform"),
    conversations.c.chat_id == bindparam("chat_id"),
    conversations.c.user_id == bindparam("user_id"),
)
_GET = select(conversations).where(*_ONE)
_DELETE = delete(conversations).where(*_ONE)
_INSERT = conversations.insert()


def _key(chat: ChatRef, user: UserRef) -> dict[str, str]:
    return {"platform": chat.platform.value, "chat_id": chat.chat_id, "user_id": user.user_id}


class SqlConversationRepository:
    """ConversationRepository on SQLAlchemy Core."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, chat: ChatRef, user: UserRef) -> Conversation | None:
        """The stored conversation for this user in this chat."""
        async with self._db.reading(touches=(conversations,)) as connection:
            row = (await connection.execute(_GET, _key(chat, user))).first()
        if row is None:
            return None
        return Conversation(row.state, json.loads(row.slots), row.expires_at)

    async def get_many(
        self, keys: Sequence[tuple[ChatRef, UserRef]]
    ) -> dict[tuple[ChatRef, UserRef], Conversation]:
        """The stored conversations of several users at once (one query)."""
        if not keys:
            return {}
        by_key = {tuple(_key(chat, user).values()): (chat, user) for chat, user in keys}
        users = sorted({user.user_id for _, user in keys})
        # Few people are ever in a flow: select by user, then keep the exact (chat, user) keys.
        async with self._db.reading(touches=(conversations,)) as connection:
            rows = (await connection.execute(_BY_USERS, {"users": users})).all()
        return {
            by_key[key]: Conversation(row.state, json.loads(row.slots), row.expires_at)
            for row in rows
            if (key := (row.platform, row.chat_id, row.user_id)) in by_key
        }

    async def put(self, chat: ChatRef, user: UserRef, conversation: Conversation) -> None:
        """Replace the conversation (delete then insert, portable across databases)."""
        async with self._db.transaction(touches=(conversations,)) as connection:
            await self.delete(chat, user)
            await connection.execute(
                _INSERT,
                _key(chat, user)
                | {
                    "state": conversation.state,
                    "slots": json.dumps(dict(conversation.slots), ensure_ascii=False),
                    "expires_at": conversation.expires_at,
                },
            )

    async def delete_expired(self, now: datetime) -> None:
        """Forget every conversation that expired by `now`."""
        async with self._db.transaction(touches=(conversations,)) as connection:
            await connection.execute(_EXPIRED, {"now": now})

    async def delete(self, chat: ChatRef, user: UserRef) -> None:
        """Forget the conversation."""
        async with self._db.transaction(touches=(conversations,)) as connection:
            await connection.execute(_DELETE, _key(chat, user))
