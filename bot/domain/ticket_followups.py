"""Follow-up (回访): after 办结 each reporter and follower is asked for a rating; 满意 and
基本满意 close the ticket once everyone answered, 不满意 reopens it and escalates it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.clock import Clock
from bot.domain.community import Person
from bot.domain.ticket_deadlines import DeadlineKeeper
from bot.domain.ticket_models import Followup, Ticket, TicketEvent, TicketNotifier, TicketRepository
from bot.domain.ticket_parties import TicketParties
from bot.domain.ticket_rules import Rating, TicketPolicy, TicketState
from bot.events import ChatRef


@dataclass(frozen=True, slots=True)
class Rated:
    """The outcome of a follow-up answer."""

    ticket: Ticket
    rating: Rating
    reopened: bool
    closed: bool


class TicketFollowups:
    """Asks for ratings and applies the answers."""

    def __init__(
        self,
        tickets: TicketRepository,
        policy: TicketPolicy,
        notifier: TicketNotifier,
        clock: Clock,
        parties: TicketParties,
        deadlines: DeadlineKeeper,
    ) -> None:
        self._tickets, self._policy, self._notifier = tickets, policy, notifier
        self._clock, self._parties, self._deadlines = clock, parties, deadlines

    async def ask(self, ticket: Ticket) -> None:
        """After 办结: ask every reporter and follower for a rating; close unrated later."""
        for person in await self._parties.of(ticket):
            chat = await self._notifier.ask_rating(ticket, person)
            if chat is not None:
                await self._tickets.add_followup(
                    Followup(0, ticket.id, person.id, chat, self._clock.now())
                )
        await self._deadlines.schedule_closing(ticket)

    async def rate(
        self, person: Person, chat: ChatRef, rating: Rating, number: int | None = None
    ) -> Rated | None:
        """Record a follow-up answer; 不满意 reopens and escalates. None: nothing to rate."""
        followup = await self._pending_followup(person, chat, number)
        if followup is None:
            return None
        ticket = await self._tickets.get(followup.ticket_id)
        if ticket is None or ticket.state is not TicketState.RESOLVED:
            return None
        now = self._clock.now()
        await self._tickets.answer_followup(followup.id, rating, now)
        await self._tickets.save(ticket, TicketEvent("rated", person.id, now, rating.value))
        if rating is Rating.DISSATISFIED:
            return Rated(await self._reopen(ticket, person), rating, reopened=True, closed=False)
        pending = [f for f in await self._tickets.followups(ticket.id) if f.rating is None]
        if pending:
            return Rated(ticket, rating, reopened=False, closed=False)
        closed = await self._deadlines.close(ticket, person.id, "rated")
        return Rated(closed, rating, reopened=False, closed=True)

    async def _pending_followup(
        self, person: Person, chat: ChatRef, number: int | None
    ) -> Followup | None:
        if number is None:
            return await self._tickets.pending_followup(person.id, chat)
        ticket = await self._tickets.get_by_number(number)
        if ticket is None:
            return None
        asked = await self._tickets.followups(ticket.id)
        return next((f for f in asked if f.person_id == person.id and f.rating is None), None)

    async def _reopen(self, ticket: Ticket, person: Person) -> Ticket:
        """不满意: back to work with fresh deadlines, one level further up."""
        now = self._clock.now()
        deadlines = self._policy.deadlines_for(ticket.request_type, urgent=ticket.urgent)
        reopened = replace(
            ticket,
            state=TicketState.REOPENED,
            updated_at=now,
            respond_by_at=now + deadlines.respond,
            resolve_by_at=now + deadlines.resolve,
        )
        await self._tickets.save(
            reopened,
            TicketEvent(
                "transition",
                person.id,
                now,
                from_state=TicketState.RESOLVED,
                to_state=TicketState.REOPENED,
            ),
        )
        await self._tickets.expire_followups(ticket.id, now)
        await self._deadlines.cancel(reopened)
        escalated = await self._deadlines.escalate(reopened, None)
        await self._deadlines.schedule_all(escalated)
        # The one who rated hears it in the answer to their rating; the others get the news.
        others = [p for p in await self._parties.of(escalated) if p.id != person.id]
        await self._notifier.progress(escalated, others)
        return escalated
