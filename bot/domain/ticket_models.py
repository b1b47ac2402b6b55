"""Ticket records and the ports the ticket loop needs from storage and from the notifier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from bot.domain.community import Node, Person
from bot.domain.rates import RateCounts
from bot.domain.ticket_rules import DueKind, Rating, TicketState
from bot.events import ChatRef, RequestType

SYSTEM_ACTOR = "system"


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
    reporter_user_id: str = ""
    merged_into: int | None = None
    referred_to: str | None = None
    escalation_level: int = 0


class DuplicateCandidate(NamedTuple):
    """What duplicate detection compares of an active ticket (not the whole ticket); a named
    tuple, because every new request gets one for each active ticket of its type nearby."""

    id: int
    text: str
    location: str | None
    urgent: bool


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
class Followup:
    """One follow-up question (回访) to one person about one resolved ticket, and the answer."""

    id: int
    ticket_id: int
    person_id: str
    chat: ChatRef
    asked_at: datetime
    rating: Rating | None = None
    rated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DueAction:
    """A stored reminder, escalation or unrated closure, done once when its time comes."""

    id: int
    ticket_id: int
    kind: DueKind
    level: int
    due_at: datetime
    failures: int = 0


@dataclass(frozen=True, slots=True)
class OpenedTicket:
    """A new ticket and the people it was routed to; `joined` when it was a duplicate."""

    ticket: Ticket
    assignees: tuple[Person, ...]
    joined: Ticket | None = None
    already_reported: bool = False


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as `/ticket N` shows it: history, people's names, who follows it, ratings."""

    ticket: Ticket
    history: Sequence[TicketEvent]
    names: Mapping[str, str]
    followers: Sequence[str] = ()


class TicketRepository(Protocol):
    """Storage port for tickets (implemented in storage/tickets.py)."""

    async def add(self, ticket: Ticket, opened: TicketEvent) -> Ticket:
        """Store a new ticket (its id and number are assigned here) with its first event."""
        ...

    async def get_by_number(self, number: int) -> Ticket | None:
        """The ticket with this number."""
        ...

    async def get(self, ticket_id: int) -> Ticket | None:
        """The ticket with this id."""
        ...

    async def find_by_source(self, chat: ChatRef, message_id: str) -> Ticket | None:
        """The ticket opened from this message, if any."""
        ...

    async def save(self, ticket: Ticket, event: TicketEvent) -> None:
        """Store the ticket's new fields and append `event` to its history."""
        ...

    async def record(self, ticket_id: int, event: TicketEvent) -> None:
        """Append `event` to the ticket's history without changing the ticket."""
        ...

    async def list_active(
        self, nodes: frozenset[str] | None, reporter_id: str | None
    ) -> list[Ticket]:
        """Active tickets at these nodes (None: everywhere), optionally of one reporter."""
        ...

    async def duplicate_candidates(
        self, request_type: RequestType, nodes: frozenset[str], since: datetime
    ) -> list[DuplicateCandidate]:
        """Active tickets of a type at these nodes opened since `since`, newest first."""
        ...

    async def merged_into(self, ticket_id: int) -> list[Ticket]:
        """Tickets merged into this one (their reporters follow it)."""
        ...

    async def reported_by(self, ticket_id: int, reporter_id: str) -> bool:
        """Whether this person reported the ticket or one merged into it."""
        ...

    async def history(self, ticket_id: int) -> list[TicketEvent]:
        """Every event of a ticket, oldest first."""
        ...

    async def add_followup(self, followup: Followup) -> None:
        """Store a follow-up question that was asked."""
        ...

    async def pending_followup(self, person_id: str, chat: ChatRef) -> Followup | None:
        """The newest unanswered follow-up asked to this person in this chat, if any."""
        ...

    async def followups(self, ticket_id: int) -> list[Followup]:
        """Every follow-up of a ticket, oldest first (answered and pending)."""
        ...

    async def answer_followup(self, followup_id: int, rating: Rating, at: datetime) -> None:
        """Record the answer to a follow-up."""
        ...

    async def expire_followups(self, ticket_id: int, at: datetime) -> None:
        """Unanswered follow-ups of the ticket no longer count (it was reopened or closed)."""
        ...

    async def schedule(self, ticket_id: int, kind: DueKind, level: int, due_at: datetime) -> None:
        """Store one due action."""
        ...

    async def schedule_many(
        self, ticket_id: int, actions: Sequence[tuple[DueKind, int, datetime]]
    ) -> None:
        """Store several due actions (kind, level, due at) in one statement."""
        ...

    async def cancel_due(self, ticket_id: int, kinds: frozenset[DueKind], at: datetime) -> None:
        """Mark the ticket's pending actions of these kinds as done without doing them."""
        ...

    async def due_actions(self, now: datetime, limit: int) -> list[DueAction]:
        """Pending actions due by `now`, oldest first."""
        ...

    async def mark_done(self, action_id: int, at: datetime) -> bool:
        """Mark an action done; False when it already was (another run got there first)."""
        ...

    async def postpone_due(self, action_id: int, due_at: datetime) -> None:
        """Count a failure of a pending action and move it to `due_at` (tried again then)."""
        ...

    async def next_due_at(self) -> datetime | None:
        """When the next pending action is due."""
        ...

    async def rate_counts(
        self, nodes: frozenset[str] | None, since: datetime, until: datetime, now: datetime
    ) -> RateCounts:
        """The counts behind the three rates for tickets opened in [since, until)."""
        ...


class TicketNotifier(Protocol):
    """Tells people about tickets outside the reply (implemented in bot/notifier.py)."""

    async def urgent_opened(self, ticket: Ticket, recipients: Sequence[Person]) -> None:
        """Alert the responsible people privately about an urgent ticket, at once."""
        ...

    async def assigned(self, ticket: Ticket, assignee: Person, by: Person) -> None:
        """Tell a new assignee privately."""
        ...

    async def progress(self, ticket: Ticket, recipients: Sequence[Person]) -> None:
        """Tell reporters and followers that their ticket moved (accepted, resolved, ...)."""
        ...

    async def ask_rating(self, ticket: Ticket, person: Person) -> ChatRef | None:
        """Ask one person to rate the resolved ticket; where the question went, or None."""
        ...

    async def reminder(self, ticket: Ticket, kind: DueKind, recipients: Sequence[Person]) -> None:
        """Remind the assignees that a deadline is near."""
        ...

    async def escalated(
        self, ticket: Ticket, kind: DueKind | None, level: Node, recipients: Sequence[Person]
    ) -> None:
        """Tell the next level up (and the assignees): a deadline was missed (`kind`), or a
        reporter was dissatisfied (None)."""
        ...
