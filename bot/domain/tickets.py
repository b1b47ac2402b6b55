"""Tickets: opening a request, routing it, and moving it through its states with a history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.clock import Clock
from bot.domain.community import Directory, Person, Role
from bot.errors import Conflict, NotAllowed, NotFound
from bot.events import ChatRef, RequestType


class TicketState(StrEnum):
    """Where a ticket stands (DOMAIN.md, Ticket states)."""

    OPEN = "open"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    MERGED = "merged"
    REFERRED = "referred"


ACTIVE_STATES = frozenset(
    {TicketState.OPEN, TicketState.ACCEPTED, TicketState.IN_PROGRESS, TicketState.REOPENED}
)

TRANSITIONS: Mapping[TicketState, frozenset[TicketState]] = {
    TicketState.OPEN: frozenset(
        {TicketState.ACCEPTED, TicketState.RESOLVED, TicketState.MERGED, TicketState.REFERRED}
    ),
    TicketState.ACCEPTED: frozenset(
        {TicketState.IN_PROGRESS, TicketState.RESOLVED, TicketState.REFERRED}
    ),
    TicketState.IN_PROGRESS: frozenset({TicketState.RESOLVED, TicketState.REFERRED}),
    TicketState.RESOLVED: frozenset({TicketState.CLOSED, TicketState.REOPENED}),
    TicketState.REOPENED: frozenset(
        {TicketState.ACCEPTED, TicketState.RESOLVED, TicketState.REFERRED}
    ),
    TicketState.CLOSED: frozenset(),
    TicketState.MERGED: frozenset(),
    TicketState.REFERRED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Deadlines:
    """How long staff have to respond to and to resolve a ticket."""

    respond: timedelta
    resolve: timedelta


@dataclass(frozen=True, slots=True)
class TicketPolicy:
    """Routing and deadlines, built from the config: who owns each type, and by when."""

    routing: Mapping[RequestType, tuple[Role, ...]]
    deadlines: Mapping[RequestType, Deadlines]
    urgent: Deadlines

    def deadlines_for(self, request_type: RequestType, *, urgent: bool) -> Deadlines:
        """Urgent tickets get the urgent deadlines whatever their type."""
        return self.urgent if urgent else self.deadlines[request_type]


@dataclass(frozen=True, slots=True)
class TicketSource:
    """The message a ticket came from, so an edit of it updates the ticket."""

    chat: ChatRef
    message_id: str
    group_id: str | None


@dataclass(frozen=True, slots=True)
class RequestDraft:
    """What the classifier and location parser made of a resident's message."""

    request_type: RequestType
    text: str
    urgent: bool
    confidence: float
    cues: tuple[str, ...] = ()
    location: str | None = None
    image: str | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """One tracked request."""

    id: int
    number: int
    request_type: RequestType
    state: TicketState
    urgent: bool
    text: str
    location: str | None
    cues: tuple[str, ...]
    confidence: float
    reporter_id: str
    reporter_name: str
    node: str
    assignees: tuple[str, ...]
    source: TicketSource
    image: str | None
    created_at: datetime
    updated_at: datetime
    respond_by_at: datetime
    resolve_by_at: datetime
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """One entry of a ticket's history: a transition or a note, with who and when."""

    kind: str
    actor_id: str
    at: datetime
    note: str = ""
    from_state: TicketState | None = None
    to_state: TicketState | None = None


@dataclass(frozen=True, slots=True)
class OpenedTicket:
    """A new ticket and the people it was routed to."""

    ticket: Ticket
    assignees: tuple[Person, ...]


class TicketRepository(Protocol):
    """Storage port for tickets (implemented in storage/tickets.py)."""

    async def add(self, ticket: Ticket, opened: TicketEvent) -> Ticket:
        """Store a new ticket (its id and number are assigned here) with its first event."""
        ...

    async def get_by_number(self, number: int) -> Ticket | None:
        """The ticket with this number."""
        ...

    async def find_by_source(self, chat: ChatRef, message_id: str) -> Ticket | None:
        """The ticket opened from this message, if any."""
        ...

    async def save(self, ticket: Ticket, event: TicketEvent) -> None:
        """Store the ticket's new fields and append `event` to its history."""
        ...

    async def list_active(
        self, nodes: frozenset[str] | None, reporter_id: str | None
    ) -> list[Ticket]:
        """Active tickets at these nodes (None: everywhere), optionally of one reporter."""
        ...

    async def history(self, ticket_id: int) -> list[TicketEvent]:
        """Every event of a ticket, oldest first."""
        ...


class TicketNotifier(Protocol):
    """Tells people about tickets outside the reply (implemented in bot/notifier.py)."""

    async def urgent_opened(self, ticket: Ticket, recipients: Sequence[Person]) -> None:
        """Alert the responsible people privately about an urgent ticket, at once."""
        ...


class TicketService:
    """Opens tickets, routes them, and applies the state rules and permissions."""

    def __init__(
        self,
        tickets: TicketRepository,
        directory: Directory,
        policy: TicketPolicy,
        notifier: TicketNotifier,
        clock: Clock,
    ) -> None:
        self._tickets, self._directory, self._policy = tickets, directory, policy
        self._notifier, self._clock = notifier, clock

    async def open(
        self, draft: RequestDraft, reporter: Person, node: str, source: TicketSource
    ) -> OpenedTicket:
        """File a request as a ticket, route it, and alert at once when it is urgent."""
        now = self._clock.now()
        assignees = self.route(draft.request_type, node)
        deadlines = self._policy.deadlines_for(draft.request_type, urgent=draft.urgent)
        ticket = await self._tickets.add(
            Ticket(
                id=0,
                number=0,
                request_type=draft.request_type,
                state=TicketState.OPEN,
                urgent=draft.urgent,
                text=draft.text,
                location=draft.location,
                cues=draft.cues,
                confidence=draft.confidence,
                reporter_id=reporter.id,
                reporter_name=reporter.name,
                node=node,
                assignees=tuple(p.id for p in assignees),
                source=source,
                image=draft.image,
                created_at=now,
                updated_at=now,
                respond_by_at=now + deadlines.respond,
                resolve_by_at=now + deadlines.resolve,
            ),
            TicketEvent(kind="opened", actor_id=reporter.id, at=now, to_state=TicketState.OPEN),
        )
        if ticket.urgent:
            await self._notifier.urgent_opened(ticket, self._urgent_recipients(ticket, assignees))
        return OpenedTicket(ticket, assignees)

    def route(self, request_type: RequestType, node: str) -> tuple[Person, ...]:
        """The people responsible for this type at this node, nearest first, no repeats."""
        found: dict[str, Person] = {}
        for role in self._policy.routing.get(request_type, ()):
            for person in self._directory.nearest_with_role(role, node):
                found.setdefault(person.id, person)
        return tuple(found.values())

    def _urgent_recipients(self, ticket: Ticket, assignees: Sequence[Person]) -> list[Person]:
        """Urgent alerts also reach the grid worker and building leader of the node."""
        found = {p.id: p for p in assignees}
        for role in (Role.GRID_WORKER, Role.BUILDING_LEADER):
            for person in self._directory.nearest_with_role(role, ticket.node):
                found.setdefault(person.id, person)
        return list(found.values())

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

    async def get(self, number: int, viewer: Person) -> tuple[Ticket, list[TicketEvent]]:
        """One ticket and its history, if the viewer may see it."""
        ticket = await self._visible(number, viewer)
        return ticket, await self._tickets.history(ticket.id)

    async def list_active(self, viewer: Person) -> list[Ticket]:
        """Active tickets the viewer may see: their node's for staff, their own for residents."""
        if viewer.has(Role.SECRETARY):
            return await self._tickets.list_active(None, None)
        if not viewer.is_staff:
            return await self._tickets.list_active(None, viewer.id)
        return await self._tickets.list_active(self._scope_nodes(viewer), None)

    async def accept(self, number: int, actor: Person, note: str = "") -> Ticket:
        """Staff take the ticket on (受理)."""
        return await self._transition(number, actor, TicketState.ACCEPTED, note)

    async def resolve(self, number: int, actor: Person, note: str) -> Ticket:
        """Staff mark the ticket done (办结), with a note of what was done."""
        return await self._transition(number, actor, TicketState.RESOLVED, note)

    async def _transition(
        self, number: int, actor: Person, target: TicketState, note: str
    ) -> Ticket:
        if not actor.is_staff:
            raise NotAllowed("抱歉，受理和办结工单需要由工作人员操作。您的问题我们会跟进处理。")
        ticket = await self._visible(number, actor)
        if not self.may_handle(actor, ticket):
            raise NotAllowed("抱歉，只有负责的工作人员可以处理工单。")
        if target not in TRANSITIONS[ticket.state]:
            raise Conflict(f"工单 {ticket.number} 当前状态不能这样操作。")
        now = self._clock.now()
        updated = replace(
            ticket,
            state=target,
            updated_at=now,
            accepted_at=ticket.accepted_at or (now if target is not TicketState.CLOSED else None),
            resolved_at=now if target is TicketState.RESOLVED else ticket.resolved_at,
            closed_at=now if target is TicketState.CLOSED else ticket.closed_at,
        )
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

    async def _visible(self, number: int, viewer: Person) -> Ticket:
        ticket = await self._tickets.get_by_number(number)
        if ticket is None or not self.may_see(viewer, ticket):
            raise NotFound(f"没有找到工单 {number}，请核对工单号。")
        return ticket

    def may_see(self, viewer: Person, ticket: Ticket) -> bool:
        """DOMAIN.md: residents see their own, staff their stairwell or compound, secretary all."""
        if viewer.has(Role.SECRETARY) or ticket.reporter_id == viewer.id:
            return True
        return viewer.is_staff and ticket.node in self._scope_nodes(viewer)

    def may_handle(self, actor: Person, ticket: Ticket) -> bool:
        """Compound staff handle their compound; leaders only disputes in their stairwell."""
        if actor.has(Role.SECRETARY):
            return True
        if actor.has(Role.GRID_WORKER, Role.PROPERTY, Role.COMPOUND_SECRETARY):
            return ticket.node in self._scope_nodes(actor)
        if actor.has(Role.BUILDING_LEADER):
            return ticket.request_type is RequestType.DISPUTE and self._directory.is_within(
                ticket.node, actor.node
            )
        return False

    def _scope_nodes(self, person: Person) -> frozenset[str]:
        """The nodes a staff member looks after: the stairwell of a leader, else the compound."""
        if person.has(Role.GRID_WORKER, Role.PROPERTY, Role.COMPOUND_SECRETARY):
            compound = self._directory.compound_of(person.node)
            scope = compound.id if compound is not None else person.node
        else:
            scope = person.node
        return frozenset(
            node_id
            for node_id in self._directory.node_ids()
            if self._directory.is_within(node_id, scope)
        )
