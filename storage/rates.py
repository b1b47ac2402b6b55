"""The counts behind the response, resolution and satisfaction rates, in SQL: one part of
SqlTicketRepository (storage/tickets.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from bot.domain.rates import RateCounts
from bot.domain.ticket_rules import Rating, TicketState
from storage.db import Database
from storage.schema import ticket_followups, tickets


class SqlRateCounts:
    """The rate_counts method of TicketRepository."""

    _db: Database

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
