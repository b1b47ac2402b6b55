"""Deadlines of the ticket loop: reminders before them, escalation one level up when missed
(and again while still missed), and closing resolved tickets nobody rated.

Every action is a stored row (the database is the source of truth), done at most once: it is
marked done in the same transaction as the messages it causes.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.community import Directory, Level, Node, Person, Role
from bot.domain.ticket_models import (
    SYSTEM_ACTOR,
    DueAction,
    Ticket,
    TicketEvent,
    TicketNotifier,
    TicketRepository,
)
from bot.domain.ticket_parties import TicketParties
from bot.domain.ticket_rules import (
    ACTIVE_STATES,
    AWAITING_RESPONSE,
    DueKind,
    TicketPolicy,
    TicketState,
)
from bot.domain.units import UnitOfWork

# Who answers for a level of the tree when a ticket is escalated to it.
ESCALATION_ROLES = {
    Level.STAIRWELL: Role.BUILDING_LEADER,
    Level.COMPOUND: Role.COMPOUND_SECRETARY,
    Level.COMMUNITY: Role.SECRETARY,
}
ALL_KINDS = frozenset(DueKind)
BATCH = 200
# An action that fails is tried again this much later, up to this many times; then it is
# dropped (and logged), so one broken ticket never holds up everyone else's reminders. A
# reminder or escalation two hours late has lost its point anyway.
RETRY_FAILED_AFTER = timedelta(minutes=10)
MAX_FAILURES = 12

logger = logging.getLogger(__name__)


class DeadlineKeeper:
    """Schedules and performs the ticket loop's timed actions."""

    def __init__(
        self,
        tickets: TicketRepository,
        directory: Directory,
        policy: TicketPolicy,
        notifier: TicketNotifier,
        clock: Clock,
        parties: TicketParties,
        transactions: UnitOfWork | None,
    ) -> None:
        self._tickets, self._directory, self._policy = tickets, directory, policy
        self._notifier, self._clock, self._parties = notifier, clock, parties
        self._transactions = transactions

    # -- scheduling -------------------------------------------------------------------------
    async def schedule_all(self, ticket: Ticket) -> None:
        """Reminders and escalations for both deadlines of an active ticket (one write)."""
        actions = [
            *self._pair(ticket, DueKind.REMIND_RESPOND, DueKind.ESCALATE_RESPOND, True),
            *self._pair(ticket, DueKind.REMIND_RESOLVE, DueKind.ESCALATE_RESOLVE, False),
        ]
        await self._tickets.schedule_many(ticket.id, actions)

    def _pair(
        self, ticket: Ticket, remind: DueKind, escalate: DueKind, respond: bool
    ) -> list[tuple[DueKind, int, datetime]]:
        now = self._clock.now()
        deadline = ticket.respond_by_at if respond else ticket.resolve_by_at
        # A window shorter than the reminder lead (urgent: 2 h) gets its reminder half-way.
        remind_at = max(deadline - self._policy.remind_before, now + (deadline - now) / 2)
        return [(remind, 0, remind_at), (escalate, 1, deadline)]

    async def schedule_closing(self, ticket: Ticket) -> None:
        """A resolved ticket closes unrated when nobody answers the follow-up in time."""
        due_at = self._clock.now() + self._policy.close_unrated_after
        await self._tickets.schedule(ticket.id, DueKind.CLOSE_UNRATED, 0, due_at)

    async def cancel(self, ticket: Ticket) -> None:
        """Drop every pending action of the ticket (it was resolved, merged, referred ...)."""
        await self._tickets.cancel_due(ticket.id, ALL_KINDS, self._clock.now())

    # -- performing -------------------------------------------------------------------------
    async def run_due(self) -> None:
        """Perform every due action once, each in its own transaction."""
        while True:
            now = self._clock.now()
            actions = await self._tickets.due_actions(now, BATCH)
            for action in actions:
                try:
                    async with self._transaction():
                        # Marking first makes a second, concurrent run skip the action.
                        if await self._tickets.mark_done(action.id, now):
                            await self._perform(action)
                except Exception:
                    await self._failed(action, now)
            if len(actions) < BATCH:
                return

    async def _failed(self, action: DueAction, now: datetime) -> None:
        """The action's transaction rolled back: try it again later, or drop it for good."""
        if action.failures + 1 >= MAX_FAILURES:
            logger.exception(
                "dropping %s of ticket id %s after %d failed attempts",
                action.kind.value, action.ticket_id, action.failures + 1,
            )  # fmt: skip
            async with self._transaction():
                await self._tickets.mark_done(action.id, now)
            return
        logger.exception(
            "%s of ticket id %s failed; trying again in %s",
            action.kind.value, action.ticket_id, RETRY_FAILED_AFTER,
        )  # fmt: skip
        async with self._transaction():
            await self._tickets.postpone_due(action.id, now + RETRY_FAILED_AFTER)

    def _transaction(self) -> AbstractAsyncContextManager[object]:
        if self._transactions is None:
            return nullcontext()
        return self._transactions.transaction()

    async def _perform(self, action: DueAction) -> None:
        ticket = await self._tickets.get(action.ticket_id)
        if ticket is None:
            return
        kind = action.kind
        if kind is DueKind.CLOSE_UNRATED:
            if ticket.state is TicketState.RESOLVED:
                answered = any(f.rating for f in await self._tickets.followups(ticket.id))
                await self.close(ticket, SYSTEM_ACTOR, "rated" if answered else "unrated")
            return
        waiting = AWAITING_RESPONSE if kind.value.endswith("respond") else ACTIVE_STATES
        if ticket.state not in waiting:
            return
        if kind in (DueKind.REMIND_RESPOND, DueKind.REMIND_RESOLVE):
            deadline = (
                ticket.respond_by_at if kind is DueKind.REMIND_RESPOND else ticket.resolve_by_at
            )
            if self._clock.now() >= deadline:
                # Late (Linli was down, or the reminder kept failing): a reminder of a deadline
                # already missed only confuses; the escalation due at that deadline says it.
                return
            await self._notifier.reminder(ticket, kind, self._assignees(ticket))
            return
        escalated = await self.escalate(ticket, kind)
        if escalated.escalation_level > ticket.escalation_level and self._has_level_above(
            escalated
        ):
            # Still missed one window later: one level further up.
            again_at = (
                self._clock.now()
                + self._policy.deadlines_for(ticket.request_type, urgent=ticket.urgent).respond
            )
            await self._tickets.schedule(ticket.id, kind, action.level + 1, again_at)

    async def escalate(self, ticket: Ticket, kind: DueKind | None) -> Ticket:
        """Move the ticket's supervision one level up and tell that level and the assignees.

        `kind` is the missed deadline; None when a dissatisfied rating reopened the ticket.
        """
        lineage = self._directory.lineage(ticket.node)
        # At the top already, the top is told again: a new miss deserves a new 督办 notice.
        target = min(ticket.escalation_level + 1, len(lineage) - 1)
        level = lineage[target]
        now = self._clock.now()
        escalated = replace(ticket, escalation_level=target, updated_at=now)
        await self._tickets.save(escalated, TicketEvent("escalated", SYSTEM_ACTOR, now, level.name))
        heads = self._heads(level)
        recipients = {p.id: p for p in [*heads, *self._assignees(ticket)]}
        await self._notifier.escalated(escalated, kind, level, list(recipients.values()))
        return escalated

    async def close(self, ticket: Ticket, actor_id: str, how: str) -> Ticket:
        """Close a resolved ticket: rated by everyone asked, or unrated after the wait."""
        now = self._clock.now()
        closed = replace(ticket, state=TicketState.CLOSED, updated_at=now, closed_at=now)
        await self._tickets.save(
            closed,
            TicketEvent(
                "transition",
                actor_id,
                now,
                how,
                from_state=TicketState.RESOLVED,
                to_state=TicketState.CLOSED,
            ),
        )
        await self._tickets.expire_followups(ticket.id, now)
        await self.cancel(closed)
        return closed

    def _has_level_above(self, ticket: Ticket) -> bool:
        return ticket.escalation_level + 1 < len(self._directory.lineage(ticket.node))

    def _heads(self, level: Node) -> list[Person]:
        role = ESCALATION_ROLES[level.level]
        here = [p for p in self._directory.people() if role in p.roles and p.node == level.id]
        return here or self._directory.nearest_with_role(Role.SECRETARY, level.id)

    def _assignees(self, ticket: Ticket) -> list[Person]:
        found = (self._directory.person(person_id) for person_id in ticket.assignees)
        return [person for person in found if person is not None]
