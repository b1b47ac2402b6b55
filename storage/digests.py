"""Ticket facts for digests: one read-only query over the tickets table."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from bot.domain.digests import ACTIVE, TicketFacts
from bot.domain.ticket_rules import Rating
from bot.events import RequestType
from storage.db import Database
from storage.schema import ticket_followups, tickets


def _row_to_facts(row: Any) -> TicketFacts:
    return TicketFacts(
        number=row.number,
        request_type=RequestType(row.request_type),
        state=row.state,
        urgent=row.urgent,
        node=row.node,
        assignees=tuple(a for a in row.assignees.split("|") if a),
        created_at=row.created_at,
        respond_by_at=row.respond_by_at,
        resolve_by_at=row.resolve_by_at,
        accepted_at=row.accepted_at,
        resolved_at=row.resolved_at,
    )


class SqlDigestRepository:
    """DigestRepository on SQLAlchemy Core."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def facts(self, nodes: frozenset[str] | None, since: datetime) -> list[TicketFacts]:
        """Tickets created or resolved since `since`, or still active, oldest first."""
        query = select(tickets).where(
            or_(
                tickets.c.created_at >= since,
                tickets.c.resolved_at >= since,
                tickets.c.state.in_(sorted(ACTIVE)),
            )
        )
        if nodes is not None:
            query = query.where(tickets.c.node.in_(sorted(nodes)))
        async with self._db.reading() as connection:
            rows = (await connection.execute(query.order_by(tickets.c.number))).all()
            ratings = await connection.execute(
                select(ticket_followups.c.ticket_id, ticket_followups.c.rating).where(
                    ticket_followups.c.rating.is_not(None),
                    ticket_followups.c.ticket_id.in_([row.id for row in rows]),
                )
            )
            # One ticket can be rated by several reporters (merged duplicates): any
            # dissatisfied answer makes it count as not satisfied.
            satisfied: dict[int, bool] = {}
            for ticket_id, rating in ratings.all():
                positive = rating != Rating.DISSATISFIED.value
                satisfied[ticket_id] = satisfied.get(ticket_id, True) and positive
        return [replace(_row_to_facts(row), satisfied=satisfied.get(row.id)) for row in rows]
