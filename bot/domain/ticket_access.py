"""Who may see and handle which tickets (DOMAIN.md, "Who may do what")."""

from __future__ import annotations

from bot.domain.community import Directory, Node, Person, Role
from bot.domain.ticket_models import Ticket, TicketRepository
from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.events import RequestType


class TicketAccess:
    """Visibility and permission rules for tickets."""

    def __init__(self, tickets: TicketRepository, directory: Directory) -> None:
        self._tickets, self._directory = tickets, directory

    async def visible(self, number: int, viewer: Person) -> Ticket:
        """The ticket, if it exists and the viewer may see it (else NotFound)."""
        ticket = await self._tickets.get_by_number(number)
        if ticket is None or not self.may_see(viewer, ticket):
            raise NotFound("ticket.not_found", number=number)
        return ticket

    def require_manager(self, actor: Person, ticket: Ticket) -> None:
        """DOMAIN.md: assign, merge and refer belong to secretaries."""
        if actor.has(Role.SECRETARY):
            return
        if actor.has(Role.COMPOUND_SECRETARY) and ticket.node in self.scope_nodes(actor):
            return
        raise NotAllowed("ticket.managers_only")

    def staff_named(self, who: str) -> Person:
        """A staff member by person id or name (a leading @ is ignored)."""
        wanted = who.strip().lstrip("@").strip()
        for person in self._directory.people():
            if person.is_staff and wanted in (person.id, person.name):
                return person
        raise InvalidInput("ticket.unknown_staff", name=wanted)

    def may_see(self, viewer: Person, ticket: Ticket) -> bool:
        """DOMAIN.md: residents see their own, staff their stairwell or compound, secretary all."""
        if viewer.has(Role.SECRETARY) or ticket.reporter_id == viewer.id:
            return True
        return viewer.is_staff and ticket.node in self.scope_nodes(viewer)

    def may_handle(self, actor: Person, ticket: Ticket) -> bool:
        """Compound staff handle their compound; leaders only disputes in their stairwell."""
        if actor.has(Role.SECRETARY):
            return True
        if actor.has(Role.GRID_WORKER, Role.PROPERTY, Role.COMPOUND_SECRETARY):
            return ticket.node in self.scope_nodes(actor)
        if actor.has(Role.BUILDING_LEADER):
            return ticket.request_type is RequestType.DISPUTE and self._directory.is_within(
                ticket.node, actor.node
            )
        return False

    def scope_nodes(self, person: Person) -> frozenset[str]:
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

    def stats_scope(self, viewer: Person) -> Node:
        """The node whose rates a staff member sees: community, compound or stairwell."""
        if viewer.has(Role.SECRETARY):
            return self._directory.community
        if viewer.has(Role.COMPOUND_SECRETARY, Role.GRID_WORKER, Role.PROPERTY):
            return self._directory.compound_of(viewer.node) or self._directory.node(viewer.node)
        if viewer.has(Role.BUILDING_LEADER):
            return self._directory.node(viewer.node)
        raise NotAllowed("ticket.stats_staff_only")
