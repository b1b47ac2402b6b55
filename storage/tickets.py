"""Tickets, their append-only history, follow-ups, due actions and rate counts in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, insert, or_, select, update

from bot.domain.rates import RateCounts
from bot.domain.ticket_models import DueAction, DuplicateCandidate, Followup
from bot.domain.ticket_rules import DueKind, Rating
from bot.domain.tickets import ACTIVE_STATES, Ticket, TicketEvent, TicketSource, TicketState
from bot.events import ChatRef, Platform, RequestType
from storage.db import Database
from storage.schema import ticket_due, ticket_events, ticket_followups, tickets

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


class SqlTicketRepository:
    """TicketRepository on SQLAlchemy Core (SQLite or PostgreSQL)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, ticket: Ticket, opened: TicketEvent) -> Ticket:
        """Store a new ticket with the next free number and its first event."""
        async with self._db.transaction(touches=(tickets,)) as connection:
            result = await connection.execute(_INSERT_TICKET, _ticket_values(ticket))
            ticket_id, number = result.one()
        await self._db.append(ticket_events, [_event_values(ticket_id, opened)])
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
            await self._db.append(ticket_events, [_event_values(ticket.id, event)])

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
        return [DuplicateCandidate(row.id, row.text, row.location, row.urgent) for row in rows]

    async def merged_into(self, ticket_id: int) -> list[Ticket]:
        """Tickets merged into this one, oldest first."""
        query = select(tickets).where(
            tickets.c.merged_into == ticket_id, tickets.c.state == TicketState.MERGED.value
        )
        async with self._db.reading(touches=(tickets,)) as connection:
            rows = (await connection.execute(query.order_by(tickets.c.id))).all()
        return [_row_to_ticket(row) for row in rows]

    async def list_opened(self, since: datetime, nodes: frozenset[str] | None) -> list[Ticket]:
        """Every ticket opened since `since` (optionally at these nodes), by number."""
        query = select(tickets).where(tickets.c.created_at >= since)
        if nodes is not None:
            query = query.where(tickets.c.node.in_(sorted(nodes)))
        async with self._db.reading(touches=(tickets,)) as connection:
            rows = (await connection.execute(query.order_by(tickets.c.number))).all()
        return [_row_to_ticket(row) for row in rows]

    # -- follow-ups -------------------------------------------------------------------------
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

    # -- due actions ------------------------------------------------------------------------
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

    # -- rates ------------------------------------------------------------------------------
    async def rate_counts(
        self, nodes: frozenset[str] | None, since: datetime, until: datetime, now: datetime
    ) -> RateCounts:
        """Counts for the three rates (definitions in bot/domain/rates.py), in two queries."""
        counted = and_(
            tickets.c.created_at >= since,
            tickets.c.created_at < until,
            tickets.c.state.not_in([TicketState.MERGED.value, TicketState.REFERRED.value]),
        )
        if nodes is not None:
            counted = and_(counted, tickets.c.node.in_(sorted(nodes)))
        finished = [TicketState.RESOLVED.value, TicketState.CLOSED.value]
        ticket_query = select(
            func.count(),
            _count(or_(tickets.c.accepted_at.is_not(None), tickets.c.respond_by_at <= now)),
            _count(
                and_(
                    tickets.c.accepted_at.is_not(None),
                    tickets.c.accepted_at <= tickets.c.respond_by_at,
                )
            ),
            _count(or_(tickets.c.resolved_at.is_not(None), tickets.c.resolve_by_at <= now)),
            _count(tickets.c.state.in_(finished)),
        ).where(counted)
        positive = [Rating.SATISFIED.value, Rating.MOSTLY_SATISFIED.value]
        rating_query = (
            select(func.count(), _count(ticket_followups.c.rating.in_(positive)))
            .select_from(ticket_followups.join(tickets))
            .where(counted, ticket_followups.c.rating.is_not(None))
        )
        async with self._db.reading(touches=(tickets, ticket_followups)) as connection:
            totals = (await connection.execute(ticket_query)).one()
            ratings = (await connection.execute(rating_query)).one()
        return RateCounts(
            opened=totals[0],
            due_response=totals[1] or 0,
            responded_in_time=totals[2] or 0,
            due_resolution=totals[3] or 0,
            resolved=totals[4] or 0,
            rated=ratings[0],
            satisfied=ratings[1] or 0,
        )


def _count(condition: Any) -> Any:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END)."""
    return func.sum(case((condition, 1), else_=0))


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
