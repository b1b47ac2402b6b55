"""Opening tickets: a request becomes a routed ticket with deadlines, or joins the open ticket
that already says the same thing (duplicates: same type, related node, similar text)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.clock import Clock
from bot.domain.community import Directory, Person, Role
from bot.domain.ticket_deadlines import DeadlineKeeper
from bot.domain.ticket_models import (
    DuplicateCandidate,
    OpenedTicket,
    RequestDraft,
    Ticket,
    TicketEvent,
    TicketNotifier,
    TicketRepository,
    TicketSource,
)
from bot.domain.ticket_parties import TicketParties
from bot.domain.ticket_rules import Deadlines, TicketPolicy, TicketState, similarity
from bot.events import RequestType


class TicketIntake:
    """Files requests: routing, deadlines, urgent alerts, and joining duplicates."""

    def __init__(
        self,
        tickets: TicketRepository,
        directory: Directory,
        policy: TicketPolicy,
        notifier: TicketNotifier,
        clock: Clock,
        deadlines: DeadlineKeeper,
    ) -> None:
        self._tickets, self._directory, self._policy = tickets, directory, policy
        self._notifier, self._clock, self._deadlines = notifier, clock, deadlines

    async def open(
        self, draft: RequestDraft, reporter: Person, node: str, source: TicketSource
    ) -> OpenedTicket:
        """File a request as a ticket (or join the same open one), route it, alert if urgent."""
        now = self._clock.now()
        duplicate = await self._find_duplicate(draft, node, now)
        if duplicate is not None:
            return await self._join(duplicate, draft, reporter, node, source)
        assignees = self.route(draft.request_type, node)
        deadlines = self._policy.deadlines_for(draft.request_type, urgent=draft.urgent)
        ticket = await self._tickets.add(
            self.new_ticket(draft, reporter, node, source, assignees, deadlines),
            TicketEvent(kind="opened", actor_id=reporter.id, at=now, to_state=TicketState.OPEN),
        )
        await self._deadlines.schedule_all(ticket)
        if ticket.urgent:
            await self._notifier.urgent_opened(ticket, self._urgent_recipients(ticket, assignees))
        return OpenedTicket(ticket, assignees)

    def new_ticket(
        self,
        draft: RequestDraft,
        reporter: Person,
        node: str,
        source: TicketSource,
        assignees: tuple[Person, ...],
        deadlines: Deadlines,
    ) -> Ticket:
        """A ticket as opened now: routed, with its deadlines, not yet stored."""
        now = self._clock.now()
        return Ticket(
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
            reporter_user_id=TicketParties.platform_user_id(reporter, source.chat),
        )

    async def _find_duplicate(self, draft: RequestDraft, node: str, now: datetime) -> Ticket | None:
        """An active ticket of the same type, related node and similar text, if any."""
        related = frozenset(
            other
            for other in self._directory.node_ids()
            if other != self._directory.community.id
            and (self._directory.is_within(other, node) or self._directory.is_within(node, other))
        ) | {node}
        candidates = await self._tickets.duplicate_candidates(
            draft.request_type, related, now - self._policy.duplicate_window
        )
        best: tuple[float, DuplicateCandidate] | None = None
        for candidate in candidates:
            if draft.location and candidate.location and not _same_place(draft, candidate):
                continue
            if draft.urgent and not candidate.urgent:
                continue  # an emergency always gets its own ticket and its own alerts
            score = similarity(draft.text, candidate.text)
            if score >= self._policy.duplicate_similarity and (best is None or score > best[0]):
                best = (score, candidate)
        return None if best is None else await self._tickets.get(best[1].id)

    async def _join(
        self,
        original: Ticket,
        draft: RequestDraft,
        reporter: Person,
        node: str,
        source: TicketSource,
    ) -> OpenedTicket:
        """Keep the duplicate as a merged ticket: its reporter follows the original."""
        if await self._tickets.reported_by(original.id, reporter.id):
            return OpenedTicket(original, (), joined=original, already_reported=True)
        now = self._clock.now()
        deadlines = self._policy.deadlines_for(draft.request_type, urgent=draft.urgent)
        merged = replace(
            self.new_ticket(draft, reporter, node, source, (), deadlines),
            state=TicketState.MERGED,
            merged_into=original.id,
            assignees=original.assignees,
        )
        merged = await self._tickets.add(
            merged,
            TicketEvent(
                kind="opened",
                actor_id=reporter.id,
                at=now,
                note=str(original.number),
                to_state=TicketState.MERGED,
            ),
        )
        await self._tickets.record(
            original.id, TicketEvent(kind="joined", actor_id=reporter.id, at=now, note=draft.text)
        )
        return OpenedTicket(merged, (), joined=original)

    def route(self, request_type: RequestType, node: str) -> tuple[Person, ...]:
        """The people responsible for this type at this node, nearest first, no repeats."""
        found: dict[str, Person] = {}
        for role in self._policy.routing.get(request_type, ()):
            for person in self._directory.nearest_with_role(role, node):
                found.setdefault(person.id, person)
        return tuple(found.values())

    def _urgent_recipients(self, ticket: Ticket, assignees: tuple[Person, ...]) -> list[Person]:
        """Urgent alerts also reach the grid worker and building leader of the node."""
        found = {p.id: p for p in assignees}
        for role in (Role.GRID_WORKER, Role.BUILDING_LEADER):
            for person in self._directory.nearest_with_role(role, ticket.node):
                found.setdefault(person.id, person)
        return list(found.values())


def _same_place(draft: RequestDraft, ticket: DuplicateCandidate) -> bool:
    """Two parsed locations name the same place when one contains the other (5幢 / 5幢1单元)."""
    first, second = draft.location or "", ticket.location or ""
    return first in second or second in first
