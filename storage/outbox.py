"""Outbox rows: stored with the change that caused them, marked when delivered."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot.events import Button, ChatRef, OutgoingMessage, Platform
from bot.outbox import MAX_ATTEMPTS, OutboxEntry
from storage.db import Database
from storage.schema import outbox


def _row_to_message(row: Any) -> OutgoingMessage:
    buttons = tuple(Button(label, payload) for label, payload in json.loads(row.buttons or "[]"))
    return OutgoingMessage(
        outbox_id=row.id,
        chat=ChatRef(Platform(row.platform), row.chat_id, row.is_group),
        text=row.text,
        group_id=row.group_id,
        person_id=row.person_id,
        reply_to_id=row.reply_to_id,
        reply_to_user_id=row.reply_to_user_id,
        urgent=row.urgent,
        image=row.image,
        buttons=buttons,
        parts_sent=row.parts_sent,
    )


def _undelivered(platform: Platform) -> Any:
    return (
        (outbox.c.platform == platform.value)
        & outbox.c.sent_at.is_(None)
        & outbox.c.failed_at.is_(None)
    )


class SqlOutboxRepository:
    """OutboxRepository on SQLAlchemy Core."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, entry: OutboxEntry, created_at: datetime, not_before_at: datetime) -> None:
        """Store one message with the caller's transaction, or on its own when there is none."""
        values = {
            "platform": entry.chat.platform.value,
            "chat_id": entry.chat.chat_id,
            "is_group": entry.chat.is_group,
            "group_id": entry.group_id,
            "person_id": entry.person_id,
            "text": entry.text,
            "reply_to_id": entry.reply_to_id,
            "reply_to_user_id": entry.reply_to_user_id,
            "urgent": entry.urgent,
            "image": entry.image,
            "buttons": json.dumps([[b.label, b.payload] for b in entry.buttons], ensure_ascii=False)
            if entry.buttons
            else None,
            "created_at": created_at,
            "not_before_at": not_before_at,
            "attempts": 0,
        }
        await self._db.append(outbox, [values])

    async def pending(self, platform: Platform, now: datetime, limit: int) -> list[OutgoingMessage]:
        """Due undelivered messages, urgent first, then in the order they were written."""
        query = (
            select(outbox)
            .where(_undelivered(platform), outbox.c.not_before_at <= now)
            .order_by(outbox.c.urgent.desc(), outbox.c.id)
            .limit(limit)
        )
        async with self._db.reading() as connection:
            rows = (await connection.execute(query)).all()
        return [_row_to_message(row) for row in rows]

    async def mark_sent(self, outbox_id: int, at: datetime) -> None:
        """Record the delivery."""
        async with self._db.transaction() as connection:
            await connection.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id)
                .values(sent_at=at, attempts=outbox.c.attempts + 1)
            )

    async def mark_failed(
        self,
        outbox_id: int,
        at: datetime,
        error: str,
        *,
        retry_at: datetime | None,
        parts_sent: int = 0,
    ) -> None:
        """Count the attempt and the parts delivered; retry later, or give up when permanent
        or out of attempts."""
        async with self._db.transaction() as connection:
            attempts, delivered = (
                await connection.execute(
                    select(outbox.c.attempts, outbox.c.parts_sent).where(outbox.c.id == outbox_id)
                )
            ).one()
            give_up = retry_at is None or attempts + 1 >= MAX_ATTEMPTS
            values: dict[str, Any] = {
                "attempts": attempts + 1,
                "error": error[:500],
                # Never fewer than before: an attempt that failed at once delivered nothing new.
                "parts_sent": max(delivered, parts_sent),
            }
            if give_up:
                values["failed_at"] = at
            else:
                values["not_before_at"] = retry_at
            await connection.execute(
                update(outbox).where(outbox.c.id == outbox_id).values(**values)
            )

    async def next_due_at(self, platform: Platform) -> datetime | None:
        """The earliest due time among undelivered messages of the platform."""
        query = (
            select(outbox.c.not_before_at)
            .where(_undelivered(platform))
            .order_by(outbox.c.not_before_at)
            .limit(1)
        )
        async with self._db.reading() as connection:
            value: datetime | None = (await connection.execute(query)).scalar()
        return value

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` messages delivered, or given up, before `before` (a message
        still waiting is never deleted). Returns how many were deleted."""
        deleted = 0
        for finished in (
            outbox.c.sent_at < before,
            outbox.c.sent_at.is_(None) & (outbox.c.failed_at < before),
        ):
            deleted += await self._db.delete_some(outbox, finished, limit - deleted)
            if deleted >= limit:
                break
        return deleted
