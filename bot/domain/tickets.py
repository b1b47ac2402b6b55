"""Tickets: the service handlers and schedules call. It moves tickets through their states with
a history (accept, resolve, refer, assign, visit, merge, split) and delegates opening
(ticket_intake), follow-up (ticket_followups), deadlines (ticket_deadlines) and permissions
(ticket_access)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.clock import Clock
from bot.domain.community import Directory, Node, Person, Role
from bot.domain.rates import Period, RateCounts
from bot.domain.ticket_access import TicketAccess
from bot.domain.ticket_deadlines import DeadlineKeeper
from bot.domain.ticket_followups import Rated, TicketFollowups
from bot.domain.ticket_intake import TicketIntake
from bot.domain.ticket_models import (
    SYSTEM_ACTOR,
    DueAction,
    Followup,
    OpenedTicket,
    RequestDraft,
    Ticket,
    TicketEvent,
    TicketNotifier,
    TicketRepository,
    TicketSource,
    TicketView,
)
from bot.domain.ticket_parties import TicketParties
from bot.domain.ticket_rules import (
    ACTIVE_STATES,
    AWAITING_RESPONSE,
    TRANSITIONS,
    Deadlines,
    DueKind,
    Rating,
    TicketPolicy,
    TicketState,
)
from bot.domain.units import UnitOfWork
from bot.errors import Conflict, InvalidInput, NotAllowed
from bot.events import ChatRef, RequestType

__all__ = [
    "ACTIVE_STATES",
    "AWAITING_RESPONSE",
    "TRANSITIONS",
    "Deadlines",
    "DueAction",
    "DueKind",
    "Followup",
    "OpenedTicket",
    "Rated",
    "Rating",
    "RequestDraft",
    "Ticket",
    "TicketEvent",
    "TicketNotifier",
    "TicketPolicy",
    "TicketRepository",
    "TicketService",
    "TicketSource",
    "TicketState",
    "TicketView",
    "Transactions",
]


Transactions = UnitOfWork


class TicketService:
    """Opens tickets, routes them, and applies the state rules and permissions."""

    def __init__(
        self,
        tickets: TicketRepository,
        directory: Directory,
        policy: TicketPolicy,
        notifier: TicketNotifier,
        clock: Clock,
        transactions: Transactions | None = None,
    ) -> None:
        self._tickets, self._directory, self._policy = tickets, directory, policy
        self._notifier, self._clock = notifier, clock
        parties = TicketParties(tickets, directory)
        self._parties = parties
        self._deadlines = DeadlineKeeper(
            tickets, directory, policy, notifier, clock, parties, transactions
        )
        self._access = TicketAccess(tickets, directory)
        self._intake = TicketIntake(tickets, directory, policy, notifier, clock, self._deadlines)
        self._followups = TicketFollowups(
            tickets, policy, notifier, clock, parties, self._deadlines
        )

    @property
    def policy(self) -> TicketPolicy:
        """Routing, deadlines and the confirmation rule, as configured."""
        return self._policy

    def may_report_privately(self, person: Person) -> bool:
        """随手拍 in a private chat: staff and part-time reporters (couriers, cleaners) only."""
        return person.is_staff or person.has(Role.REPORTER)

    # -- opening ----------------------------------------------------------------------------
    async def open(
        self, draft: RequestDraft, reporter: Person, node: str, source: TicketSource
    ) -> OpenedTicket:
        """File a request as a ticket (or join the same open one), route it, alert if urgent."""
        return await self._intake.open(draft, reporter, node, source)

    def route(self, request_type: RequestType, node: str) -> tuple[Person, ...]:
        """The people responsible for this type at this node, nearest first, no repeats."""
        return self._intake.route(request_type, node)

    async def update_text(
        self, chat: ChatRef, message_id: str, text: str, actor: Person
    ) -> Ticket | None:
        """An edited message updates the text of the ticket it opened (no second ticket)."""
        ticket = await self._tickets.find_by_source(chat, message_id)
        if ticket is None or ticket.reporter_id != actor.id or ticket.text == text:
            return ticket
        now = self._clock.now()
        updated = replace(ticket, text=text, updated_at=now)
        await self._tickets.save(
            updated, TicketEvent(kind="edited", actor_id=actor.id, at=now, note=text)
        )
        return updated

    # -- reading ----------------------------------------------------------------------------
    async def get(self, number: int, viewer: Person) -> TicketView:
        """One ticket with its history and the names of everyone in it."""
        ticket = await self._access.visible(number, viewer)
        history = await self._tickets.history(ticket.id)
        parties = await self._parties.of(ticket)
        names = {p.id: p.name for p in parties} | {SYSTEM_ACTOR: ""}
        for person_id in {e.actor_id for e in history} | set(ticket.assignees):
            known = self._directory.person(person_id)
            if known is not None:
                names[person_id] = known.name
        return TicketView(
            ticket=ticket,
            history=history,
            names=names,
            followers=tuple(p.name or p.id for p in parties[1:]),
        )

    async def list_active(self, viewer: Person) -> list[Ticket]:
        """Active tickets the viewer may see: their node's for staff, their own for residents."""
        if viewer.has(Role.SECRETARY):
            return await self._tickets.list_active(None, None)
        if not viewer.is_staff:
            return await self._tickets.list_active(None, viewer.id)
        return await self._tickets.list_active(self._access.scope_nodes(viewer), None)

    # -- staff actions ----------------------------------------------------------------------
    async def accept(self, number: int, actor: Person, note: str = "") -> Ticket:
        """Staff take the ticket on (受理); the reporter and followers are told."""
        ticket = await self._transition(number, actor, TicketState.ACCEPTED, note)
        await self._notifier.progress(ticket, await self._parties.of(ticket))
        return ticket

    async def start(self, number: int, actor: Person, note: str = "") -> Ticket:
        """Staff say work has begun (处理中)."""
        ticket = await self._transition(number, actor, TicketState.IN_PROGRESS, note)
        await self._notifier.progress(ticket, await self._parties.of(ticket))
        return ticket

    async def resolve(self, number: int, actor: Person, note: str) -> Ticket:
        """Staff mark the ticket done (办结); everyone who reported it is asked for a rating."""
        ticket = await self._transition(number, actor, TicketState.RESOLVED, note)
        await self._deadlines.cancel(ticket)
        await self._followups.ask(ticket)
        return ticket

    async def refer(self, number: int, actor: Person, body: str) -> Ticket:
        """Hand a request that is not the community's to an outside body (转办)."""
        if not body:
            raise InvalidInput("ticket.refer_no_body")
        ticket = await self._access.visible(number, actor)
        self._access.require_manager(actor, ticket)
        referred = await self._move(
            ticket, actor, TicketState.REFERRED, body, lambda t: replace(t, referred_to=body)
        )
        await self._deadlines.cancel(referred)
        await self._notifier.progress(referred, await self._parties.of(referred))
        return referred

    async def assign(self, number: int, actor: Person, who: str) -> tuple[Ticket, Person]:
        """Give the ticket to someone else (by person id or name); they are told privately."""
        ticket = await self._access.visible(number, actor)
        self._access.require_manager(actor, ticket)
        assignee = self._access.staff_named(who)
        now = self._clock.now()
        updated = replace(ticket, assignees=(assignee.id,), updated_at=now)
        await self._tickets.save(updated, TicketEvent("assigned", actor.id, now, assignee.id))
        await self._notifier.assigned(updated, assignee, actor)
        return updated, assignee

    async def visit(self, number: int, actor: Person, note: str) -> Ticket:
        """A grid worker records a home visit (入户走访) on the ticket."""
        if not note:
            raise InvalidInput("ticket.visit_no_note")
        ticket = await self._access.visible(number, actor)
        allowed = actor.has(Role.GRID_WORKER, Role.COMPOUND_SECRETARY, Role.SECRETARY)
        if not allowed or not self._access.may_handle(actor, ticket):
            raise NotAllowed("ticket.visit_not_allowed")
        now = self._clock.now()
        await self._tickets.save(ticket, TicketEvent("visit", actor.id, now, note))
        return ticket

    async def merge(self, number: int, into: int, actor: Person) -> tuple[Ticket, Ticket]:
        """Merge ticket `number` into `into`: its reporter follows `into` from now on."""
        if number == into:
            raise InvalidInput("ticket.merge_same")
        ticket = await self._access.visible(number, actor)
        target = await self._access.visible(into, actor)
        self._access.require_manager(actor, ticket)
        self._access.require_manager(actor, target)
        if target.state not in ACTIVE_STATES | {TicketState.RESOLVED}:
            raise Conflict("ticket.merge_into_ended", number=target.number)
        merged = await self._move(
            ticket,
            actor,
            TicketState.MERGED,
            str(target.number),
            lambda t: replace(t, merged_into=target.id),
        )
        await self._tickets.save(
            target, TicketEvent("absorbed", actor.id, merged.updated_at, str(merged.number))
        )
        await self._deadlines.cancel(merged)
        return merged, target

    async def split(self, number: int, actor: Person) -> Ticket:
        """Undo a merge: the ticket gets its own life again, with fresh deadlines."""
        ticket = await self._access.visible(number, actor)
        self._access.require_manager(actor, ticket)
        if ticket.state is not TicketState.MERGED:
            raise Conflict("ticket.split_not_merged", number=ticket.number)
        original = await self._tickets.get(ticket.merged_into) if ticket.merged_into else None
        now = self._clock.now()
        deadlines = self._policy.deadlines_for(ticket.request_type, urgent=ticket.urgent)
        assignees = self.route(ticket.request_type, ticket.node)
        split = await self._move(
            ticket,
            actor,
            TicketState.OPEN,
            "",
            lambda t: replace(
                t,
                merged_into=None,
                assignees=tuple(p.id for p in assignees),
                respond_by_at=now + deadlines.respond,
                resolve_by_at=now + deadlines.resolve,
            ),
        )
        if original is not None:
            await self._tickets.save(
                original, TicketEvent("split_off", actor.id, now, str(split.number))
            )
        await self._deadlines.schedule_all(split)
        return split

    # -- follow-up --------------------------------------------------------------------------
    async def rate(
        self, person: Person, chat: ChatRef, rating: Rating, number: int | None = None
    ) -> Rated | None:
        """Record a follow-up answer; 不满意 reopens and escalates. None: nothing to rate."""
        return await self._followups.rate(person, chat, rating, number)

    # -- schedule and rates ------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The schedule's stable name (the live scheduler's job id is `due:tickets`)."""
        return "tickets"

    async def run_due(self) -> None:
        """Do every reminder, escalation and unrated closure that is due, once each."""
        await self._deadlines.run_due()

    async def next_due_at(self) -> datetime | None:
        """When the next reminder, escalation or closure is due."""
        return await self._tickets.next_due_at()

    async def rates(self, node_id: str, period: Period) -> RateCounts:
        """The three rates' counts for the tickets opened at or below a node in the period."""
        nodes = None
        if node_id != self._directory.community.id:
            nodes = frozenset(
                n for n in self._directory.node_ids() if self._directory.is_within(n, node_id)
            )
        return await self._tickets.rate_counts(nodes, period.since, period.until, period.until)

    def stats_scope(self, viewer: Person) -> Node:
        """The node whose rates a staff member sees: community, compound or stairwell."""
        return self._access.stats_scope(viewer)

    # -- rules ------------------------------------------------------------------------------
    async def _transition(
        self, number: int, actor: Person, target: TicketState, note: str
    ) -> Ticket:
        if not actor.is_staff:
            raise NotAllowed("ticket.staff_only")
        ticket = await self._access.visible(number, actor)
        if not self._access.may_handle(actor, ticket):
            raise NotAllowed("ticket.not_responsible")
        return await self._move(ticket, actor, target, note)

    async def _move(
        self,
        ticket: Ticket,
        actor: Person,
        target: TicketState,
        note: str,
        adjust: Callable[[Ticket], Ticket] | None = None,
    ) -> Ticket:
        """Apply one transition (checked against TRANSITIONS) and store it in the history."""
        if target not in TRANSITIONS[ticket.state]:
            raise Conflict("ticket.bad_transition", number=ticket.number)
        now = self._clock.now()
        taken_on = target in (TicketState.ACCEPTED, TicketState.IN_PROGRESS, TicketState.RESOLVED)
        updated = replace(
            ticket,
            state=target,
            updated_at=now,
            accepted_at=ticket.accepted_at or (now if taken_on else None),
            resolved_at=now if target is TicketState.RESOLVED else ticket.resolved_at,
        )
        if adjust is not None:
            updated = adjust(updated)
        event = TicketEvent(
            kind="transition",
            actor_id=actor.id,
            at=now,
            note=note,
            from_state=ticket.state,
            to_state=target,
        )
        await self._tickets.save(updated, event)
        return updated

    def may_see(self, viewer: Person, ticket: Ticket) -> bool:
        """DOMAIN.md: residents see their own, staff their stairwell or compound, secretary all."""
        return self._access.may_see(viewer, ticket)

    def may_handle(self, actor: Person, ticket: Ticket) -> bool:
        """Compound staff handle their compound; leaders only disputes in their stairwell."""
        return self._access.may_handle(actor, ticket)
