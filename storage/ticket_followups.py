"""Follow-up questions (回访) asked about tickets and their ratings in SQL: one part of
SqlTicketRepository (storage/tickets.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from bot.domain.ticket_models import Followup
from bot.domain.ticket_rules import Rating
from bot.events import ChatRef, Platform
from storage.db import Database
from storage.schema import ticket_followups


class SqlTicketFollowups:
    """The follow-up methods of TicketRepository."""

    _db: Database

    async def add_followup(self, followup: Followup) -> None:
        """Store a follow-up question that was asked."""
        async with self._db.transaction(touches=(ticket_followups,)) as connection:
            await connection.execute(
                insert(ticket_followups).values(
                    ticket_id=followup.ticket_id,
                    person_id=followup.person_id,
                    platform=followup.chat.platform.value,
                    chat_id=followup.chat.chat_id,
                    is_group=followup.chat.is_group,
                    asked_at=followup.asked_at,
                )
            )

    async def pending_followup(self, person_id: str, chat: ChatRef) -> Followup | None:
        """The newest unanswered, unexpired follow-up asked to this person in this chat."""
        query = (
            select(ticket_followups)
            .where(
                ticket_followups.c.person_id == person_id,
                # A private question is answered in any private chat with the person; one
                # asked in a group (the fallback) only in that group.
                ticket_followups.c.is_group == chat.is_group,
                or_(
                    ticket_followups.c.is_group.is_(False),
                    and_(
                        ticket_followups.c.platform == chat.platform.value,
                        ticket_followups.c.chat_id == chat.chat_id,
                    ),
                ),
                ticket_followups.c.rating.is_(None),
                ticket_followups.c.expired_at.is_(None),
            )
            .order_by(ticket_followups.c.id.desc())
        )
        async with self._db.reading(touches=(ticket_followups,)) as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _row_to_followup(row)

    async def followups(self, ticket_id: int) -> list[Followup]:
        """Every unexpired or answered follow-up of the ticket, oldest first."""
        query = (
            select(ticket_followups)
            .where(
                ticket_followups.c.ticket_id == ticket_id,
                or_(
                    ticket_followups.c.expired_at.is_(None),
                    ticket_followups.c.rating.is_not(None),
                ),
            )
            .order_by(ticket_followups.c.id)
        )
        async with self._db.reading(touches=(ticket_followups,)) as connection:
            rows = (await connection.execute(query)).all()
        return [_row_to_followup(row) for row in rows]

    async def answer_followup(self, followup_id: int, rating: Rating, at: datetime) -> None:
        """Record the answer."""
        async with self._db.transaction(touches=(ticket_followups,)) as connection:
            await connection.execute(
                update(ticket_followups)
                .where(ticket_followups.c.id == followup_id)
                .values(rating=rating.value, rated_at=at)
            )

    async def expire_followups(self, ticket_id: int, at: datetime) -> None:
        """Unanswered follow-ups of the ticket stop counting."""
        async with self._db.transaction(touches=(ticket_followups,)) as connection:
            await connection.execute(
                update(ticket_followups)
                .where(
                    ticket_followups.c.ticket_id == ticket_id,
                    ticket_followups.c.rating.is_(None),
                    ticket_followups.c.expired_at.is_(None),
                )
                .values(expired_at=at)
            )


def _row_to_followup(row: Any) -> Followup:
    return Followup(
        id=row.id,
        ticket_id=row.ticket_id,
        person_id=row.person_id,
        chat=ChatRef(Platform(row.platform), row.chat_id, row.is_group),
        asked_at=row.asked_at,
        rating=Rating(row.rating) if row.rating else None,
        rated_at=row.rated_at,
    )
