"""A ticket's due actions (reminders, escalations, closing unrated tickets) in SQL: one part of
SqlTicketRepository (storage/tickets.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from bot.domain.ticket_models import DueAction
from bot.domain.ticket_rules import DueKind
from storage.db import Database
from storage.schema import ticket_due


class SqlTicketDue:
    """The due-action methods of TicketRepository."""

    _db: Database

    async def schedule(self, ticket_id: int, kind: DueKind, level: int, due_at: datetime) -> None:
        """Store one due action."""
        await self.schedule_many(ticket_id, [(kind, level, due_at)])

    async def schedule_many(
        self, ticket_id: int, actions: Sequence[tuple[DueKind, int, datetime]]
    ) -> None:
        """Store several due actions (written with the transaction's other appended rows)."""
        rows = [
            {"ticket_id": ticket_id, "kind": kind.value, "level": level, "due_at": due_at}
            for kind, level, due_at in actions
        ]
        if rows:
            await self._db.append(ticket_due, rows)

    async def cancel_due(self, ticket_id: int, kinds: frozenset[DueKind], at: datetime) -> None:
        """Pending actions of these kinds are done without being performed."""
        async with self._db.transaction() as connection:
            await connection.execute(
                update(ticket_due)
                .where(
                    ticket_due.c.ticket_id == ticket_id,
                    ticket_due.c.kind.in_(sorted(k.value for k in kinds)),
                    ticket_due.c.done_at.is_(None),
                )
                .values(done_at=at)
            )

    async def due_actions(self, now: datetime, limit: int) -> list[DueAction]:
        """Pending actions due by `now`, oldest first."""
        query = (
            select(ticket_due)
            .where(ticket_due.c.done_at.is_(None), ticket_due.c.due_at <= now)
            .order_by(ticket_due.c.due_at, ticket_due.c.id)
            .limit(limit)
        )
        async with self._db.reading() as connection:
            rows = (await connection.execute(query)).all()
        return [
            DueAction(row.id, row.ticket_id, DueKind(row.kind), row.level, row.due_at, row.failures)
            for row in rows
        ]

    async def mark_done(self, action_id: int, at: datetime) -> bool:
        """Mark done if still pending; the row count tells whether this call did it."""
        async with self._db.transaction() as connection:
            result = await connection.execute(
                update(ticket_due)
                .where(ticket_due.c.id == action_id, ticket_due.c.done_at.is_(None))
                .values(done_at=at)
            )
        return result.rowcount == 1

    async def postpone_due(self, action_id: int, due_at: datetime) -> None:
        """Count a failure of a pending action and move it to `due_at` (tried again then)."""
        async with self._db.transaction(touches=(ticket_due,)) as connection:
            await connection.execute(
                update(ticket_due)
                .where(ticket_due.c.id == action_id, ticket_due.c.done_at.is_(None))
                .values(due_at=due_at, failures=ticket_due.c.failures + 1)
            )

    async def next_due_at(self) -> datetime | None:
        """When the next pending action is due."""
        query = select(func.min(ticket_due.c.due_at)).where(ticket_due.c.done_at.is_(None))
        async with self._db.reading() as connection:
            value: datetime | None = (await connection.execute(query)).scalar()
        return value
