"""Tickets and their append-only history in SQL. SqlTicketRepository also takes in the
follow-ups (storage/ticket_followups.py), due actions (storage/ticket_due.py) and rate counts
(storage/rates.py) that complete TicketRepository."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update

from bot.domain.ticket_models import DuplicateCandidate
from bot.domain.tickets import ACTIVE_STATES, Ticket, TicketEvent, TicketSource, TicketState
from bot.events import ChatRef, Platform, RequestType
from storage.db import Database
from storage.rates import SqlRateCounts
from storage.schema import ticket_events, tickets
from storage.ticket_due import SqlTicketDue
from storage.ticket_followups import SqlTicketFollowups

FIRST_NUMBER = 1001

# Statements run for every request are built once: building and hashing a statement over the
# ticket table's thirty columns costs more than running it.
_INSERT_TICKET = (
    insert(tickets)
    # The number is taken in the INSERT itself: one statement, and the writer holds the write
    # lock (BEGIN IMMEDIATE), so no one else can take the same number meanwhile.
    .values(
        number=select(func.coalesce(func.max(tickets.c.number) + 1, FIRST_NUMBER)).scalar_subquery()
    )
    .returning(tickets.c.id, tickets.c.number)
)
_UPDATE_TICKET = update(tickets).where(tickets.c.id == bindparam("ticket_id"))
_TICKET_BY_ID = select(tickets).where(tickets.c.id == bindparam("ticket_id"))
_REPORTED_BY = (
    select(tickets.c.id)
    .where(
        or_(
            tickets.c.id == bindparam("ticket_id"),
            and_(
                tickets.c.merged_into == bindparam("ticket_id"),
                tickets.c.state == TicketState.MERGED.value,
            ),
        ),
        tickets.c.reporter_id == bindparam("reporter_id"),
    )
    .limit(1)
)
_DUPLICATE_CANDIDATES = (
    select(tickets.c.id, tickets.c.text, tickets.c.location, tickets.c.urgent)
    .where(
        tickets.c.request_type == bindparam("request_type"),
        tickets.c.created_at >= bindparam("since"),
        tickets.c.node.in_(bindparam("nodes", expanding=True)),
        tickets.c.state.in_([state.value for state in ACTIVE_STATES]),
    )
    .order_by(tickets.c.id.desc())
)


def _row_to_ticket(row: Any) -> Ticket:
    return Ticket(
        id=row.id,
        number=row.number,
        request_type=RequestType(row.request_type),
        state=TicketState(row.state),
        urgent=row.urgent,
        text=row.text,
        location=row.location,
        cues=tuple(cue for cue in row.cues.split("|") if cue),
        confidence=row.confidence,
        reporter_id=row.reporter_id,
        reporter_name=row.reporter_name,
        node=row.node,
        assignees=tuple(a for a in row.assignees.split("|") if a),
        source=TicketSource(
            chat=ChatRef(Platform(row.platform), row.chat_id, row.group_id is not None),
            message_id=row.message_id,
            group_id=row.group_id,
        ),
        image=row.image,
        created_at=row.created_at,
        updated_at=row.updated_at,
        respond_by_at=row.respond_by_at,
        resolve_by_at=row.resolve_by_at,
        accepted_at=row.accepted_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        reporter_user_id=row.reporter_user_id,
        merged_into=row.merged_into,
        referred_to=row.referred_to,
        escalation_level=row.escalation_level,
    )


def _ticket_values(ticket: Ticket) -> dict[str, Any]:
    return {
        "request_type": ticket.request_type.value,
        "state": ticket.state.value,
        "urgent": ticket.urgent,
        "text": ticket.text,
        "location": ticket.location,
        "cues": "|".join(ticket.cues),
        "confidence": ticket.confidence,
        "reporter_id": ticket.reporter_id,
        "reporter_name": ticket.reporter_name,
        "group_id": ticket.source.group_id,
        "node": ticket.node,
        "assignees": "|".join(ticket.assignees),
        "platform": ticket.source.chat.platform.value,
        "chat_id": ticket.source.chat.chat_id,
        "message_id": ticket.source.message_id,
        "image": ticket.image,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "respond_by_at": ticket.respond_by_at,
        "resolve_by_at": ticket.resolve_by_at,
        "accepted_at": ticket.accepted_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "reporter_user_id": ticket.reporter_user_id,
        "merged_into": ticket.merged_into,
        "referred_to": ticket.referred_to,
        "escalation_level": ticket.escalation_level,
    }


def _row_to_event(row: Any) -> TicketEvent:
    return TicketEvent(
        kind=row.kind,
        actor_id=row.actor_id,
        at=row.at,
        note=row.note,
        from_state=TicketState(row.from_state) if row.from_state else None,
        to_state=TicketState(row.to_state) if row.to_state else None,
    )


def _event_values(ticket_id: int, event: TicketEvent) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "kind": event.kind,
        "actor_id": event.actor_id,
        "at": event.at,
        "note": event.note,
        "from_state": event.from_state.value if event.from_state else None,
        "to_state": event.to_state.value if event.to_state else None,
    }


class SqlTicketRepository(SqlTicketFollowups, SqlTicketDue, SqlRateCounts):
    """TicketRepository on SQLAlchemy Core (SQLite or PostgreSQL)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, ticket: Ticket, opened: TicketEvent) -> Ticket:
        """Store a new ticket with the next free number and its first event."""
        async with self._db.transaction(touches=(tickets,)) as connection:
            result = await connection.execute(_INSERT_TICKET, _ticket_values(ticket))
            ticket_id, number = result.one()
        await self.record(ticket_id, opened)
        return replace(ticket, id=ticket_id, number=number)

    async def get_by_number(self, number: int) -> Ticket | None:
        """The ticket with this number."""
        async with self._db.reading(touches=(tickets,)) as connection:
            row = (
                await connection.execute(select(tickets).where(tickets.c.number == number))
            ).first()
        return None if row is None else _row_to_ticket(row)

    async def find_by_source(self, chat: ChatRef, message_id: str) -> Ticket | None:
        """The ticket opened from this platform message."""
        query = select(tickets).where(
            tickets.c.platform == chat.platform.value,
            tickets.c.chat_id == chat.chat_id,
            tickets.c.message_id == message_id,
        )
        async with self._db.reading(touches=(tickets,)) as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _row_to_ticket(row)

    async def save(self, ticket: Ticket, event: TicketEvent) -> None:
        """Update the ticket row and append the event, in one transaction."""
        async with self._db.transaction(touches=(tickets,)) as connection:
            await connection.execute(
                _UPDATE_TICKET, _ticket_values(ticket) | {"ticket_id": ticket.id}
            )
            await self.record(ticket.id, event)

    async def record(self, ticket_id: int, event: TicketEvent) -> None:
        """Append an event to the ticket's history (written with the transaction's rows)."""
        await self._db.append(ticket_events, [_event_values(ticket_id, event)])

    async def list_active(
        self, nodes: frozenset[str] | None, reporter_id: str | None
    ) -> list[Ticket]:
        """Active tickets, oldest first, filtered by node set and/or reporter."""
        query = select(tickets).where(tickets.c.state.in_([s.value for s in ACTIVE_STATES]))
        if nodes is not None:
            query = query.where(tickets.c.node.in_(sorted(nodes)))
        if reporter_id is not None:
            query = query.where(tickets.c.reporter_id == reporter_id)
        async with self._db.reading(touches=(tickets,)) as connection:
            rows = (await connection.execute(query.order_by(tickets.c.number))).all()
        return [_row_to_ticket(row) for row in rows]

    async def history(self, ticket_id: int) -> list[TicketEvent]:
        """Every event of the ticket, oldest first."""
        query = (
            select(ticket_events)
            .where(ticket_events.c.ticket_id == ticket_id)
            .order_by(ticket_events.c.id)
        )
        async with self._db.reading() as connection:
            rows = (await connection.execute(query)).all()
        return [_row_to_event(row) for row in rows]

    async def get(self, ticket_id: int) -> Ticket | None:
        """The ticket with this id."""
        async with self._db.reading(touches=(tickets,)) as connection:
            row = (await connection.execute(_TICKET_BY_ID, {"ticket_id": ticket_id})).first()
        return None if row is None else _row_to_ticket(row)

    async def duplicate_candidates(
        self, request_type: RequestType, nodes: frozenset[str], since: datetime
    ) -> list[DuplicateCandidate]:
        """Active tickets of one type at these nodes opened since `since`, newest first."""
        parameters = {"request_type": request_type.value, "since": since, "nodes": sorted(nodes)}
        async with self._db.reading(touches=(tickets,)) as connection:
            rows = (await connection.execute(_DUPLICATE_CANDIDATES, parameters)).all()
        return [DuplicateCandidate._make(row) for row in rows]  # (id, text, location, urgent)

    async def merged_into(self, ticket_id: int) -> list[Ticket]:
        """Tickets merged into this one, oldest first."""
        query = select(tickets).where(
            tickets.c.merged_into == ticket_id, tickets.c.state == TicketState.MERGED.value
        )
        async with self._db.reading(touches=(tickets,)) as connection:
            rows = (await connection.execute(query.order_by(tickets.c.id))).all()
        return [_row_to_ticket(row) for row in rows]

    async def reported_by(self, ticket_id: int, reporter_id: str) -> bool:
        """Whether this person reported the ticket or one merged into it."""
        parameters = {"ticket_id": ticket_id, "reporter_id": reporter_id}
        async with self._db.reading(touches=(tickets,)) as connection:
            return (await connection.execute(_REPORTED_BY, parameters)).first() is not None

    async def list_opened(self, since: datetime, nodes: frozenset[str] | None) -> list[Ticket]:
        """Every ticket opened since `since` (optionally at these nodes), by number."""
        query = select(tickets).where(tickets.c.created_at >= since)
        if nodes is not None:
            query = query.where(tickets.c.node.in_(sorted(nodes)))
        async with self._db.reading(touches=(tickets,)) as connection:
            rows = (await connection.execute(query.order_by(tickets.c.number))).all()
        return [_row_to_ticket(row) for row in rows]
