"""Tickets and their append-only history in SQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import func, insert, select, update

from bot.domain.tickets import ACTIVE_STATES, Ticket, TicketEvent, TicketSource, TicketState
from bot.events import ChatRef, Platform, RequestType
from storage.db import Database
from storage.schema import ticket_events, tickets

FIRST_NUMBER = 1001


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


class SqlTicketRepository:
    """TicketRepository on SQLAlchemy Core (SQLite or PostgreSQL)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, ticket: Ticket, opened: TicketEvent) -> Ticket:
        """Store a new ticket with the next free number and its first event."""
        async with self._db.transaction() as connection:
            highest = (await connection.execute(select(func.max(tickets.c.number)))).scalar()
            number = FIRST_NUMBER if highest is None else highest + 1
            values = _ticket_values(ticket) | {"number": number}
            result = await connection.execute(insert(tickets).values(**values))
            ticket_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            await connection.execute(
                insert(ticket_events).values(**_event_values(ticket_id, opened))
            )
        return replace(ticket, id=ticket_id, number=number)

    async def get_by_number(self, number: int) -> Ticket | None:
        """The ticket with this number."""
        async with self._db.reading() as connection:
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
        async with self._db.reading() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _row_to_ticket(row)

    async def save(self, ticket: Ticket, event: TicketEvent) -> None:
        """Update the ticket row and append the event, in one transaction."""
        async with self._db.transaction() as connection:
            await connection.execute(
                update(tickets).where(tickets.c.id == ticket.id).values(**_ticket_values(ticket))
            )
            await connection.execute(
                insert(ticket_events).values(**_event_values(ticket.id, event))
            )

    async def list_active(
        self, nodes: frozenset[str] | None, reporter_id: str | None
    ) -> list[Ticket]:
        """Active tickets, oldest first, filtered by node set and/or reporter."""
        query = select(tickets).where(tickets.c.state.in_([s.value for s in ACTIVE_STATES]))
        if nodes is not None:
            query = query.where(tickets.c.node.in_(sorted(nodes)))
        if reporter_id is not None:
            query = query.where(tickets.c.reporter_id == reporter_id)
        async with self._db.reading() as connection:
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
