"""Who a ticket concerns beyond staff: its reporter and everyone whose duplicate joined it."""

from __future__ import annotations

from bot.domain.community import Directory, Person, Role
from bot.domain.ticket_models import Ticket, TicketRepository
from bot.events import ChatRef, Platform


class TicketParties:
    """Rebuilds reporters and followers as reachable people, from what the tickets stored."""

    def __init__(self, tickets: TicketRepository, directory: Directory) -> None:
        self._tickets, self._directory = tickets, directory

    async def of(self, ticket: Ticket) -> list[Person]:
        """The reporter first, then the reporters of tickets merged into it, no repeats."""
        found = {ticket.reporter_id: self.reporter(ticket)}
        for merged in await self._tickets.merged_into(ticket.id):
            found.setdefault(merged.reporter_id, self.reporter(merged))
        return list(found.values())

    def reporter(self, ticket: Ticket) -> Person:
        """The reporter: a configured person, else a resident reachable where they wrote."""
        known = self._directory.person(ticket.reporter_id)
        if known is not None:
            return known
        platform = ticket.source.chat.platform
        user_id = ticket.reporter_user_id or ticket.reporter_id
        return Person(
            id=ticket.reporter_id,
            name=ticket.reporter_name,
            roles=(Role.RESIDENT,),
            node=ticket.node,
            telegram_user_id=user_id if platform is Platform.TELEGRAM else None,
            wechat_id=user_id if platform is Platform.WECHAT else None,
        )

    @staticmethod
    def platform_user_id(person: Person, chat: ChatRef) -> str:
        """The reporter's user id on the platform they wrote from (to reach them later)."""
        if chat.platform is Platform.TELEGRAM:
            return person.telegram_user_id or ""
        if chat.platform is Platform.WECHAT:
            return person.wechat_id or ""
        return person.id
