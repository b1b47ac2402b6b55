"""Forgetting old rows of the message log: in batches, and never a message still to be sent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.db import Database
from storage.messages import SqlInboxRepository
from storage.outbox import SqlOutboxRepository
from storage.schema import inbox, outbox
from tests.storage.conftest import AT

OLD, NEW = AT - timedelta(days=100), AT


def _outbox_row(text: str, **times: object) -> dict[str, object]:
    return {
        "platform": "console", "chat_id": "g", "is_group": True, "text": text,
        "urgent": False, "created_at": OLD, "not_before_at": OLD, "attempts": 1,
        "sent_at": None, "failed_at": None, **times,
    }  # fmt: skip


async def _column(database: Database, column: object) -> list[str]:
    async with database.reading() as connection:
        return sorted((await connection.execute(select(column))).scalars())  # type: ignore[call-overload]


async def test_the_inbox_forgets_old_platform_messages_in_batches(database: Database) -> None:
    rows = [
        *({"message_id": f"old{i}", "received_at": OLD} for i in range(5)),
        {"message_id": "linli:bind-hint", "received_at": OLD},  # Linli's own: kept
        {"message_id": "new", "received_at": NEW},
    ]
    async with database.transaction() as connection:
        await connection.execute(
            inbox.insert(), [{"platform": "console", "chat_id": "g", **row} for row in rows]
        )
    repository = SqlInboxRepository(database)
    before = AT - timedelta(days=90)
    assert [await repository.prune(before, 2) for _ in range(4)] == [2, 2, 1, 0]
    assert await _column(database, inbox.c.message_id) == ["linli:bind-hint", "new"]


async def test_the_outbox_forgets_sent_and_given_up_messages_but_never_waiting_ones(
    database: Database,
) -> None:
    async with database.transaction() as connection:
        await connection.execute(
            outbox.insert(),
            [
                _outbox_row("sent long ago", sent_at=OLD),
                _outbox_row("given up long ago", failed_at=OLD),
                _outbox_row("waiting since long ago"),  # its platform has been down
                _outbox_row("sent recently", sent_at=NEW),
                _outbox_row("given up recently", failed_at=NEW),
            ],
        )
    repository = SqlOutboxRepository(database)
    before = AT - timedelta(days=90)
    assert await repository.prune(before, 1) == 1
    assert await repository.prune(before, 10) == 1
    assert await repository.prune(before, 10) == 0
    assert await _column(database, outbox.c.text) == [
        "given up recently", "sent recently", "waiting since long ago",
    ]  # fmt: skip
