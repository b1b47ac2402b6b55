"""Renders domain notifications with handlers/texts and puts them into the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.domain.community import Directory, Node, Person
from bot.domain.tickets import DueKind, Ticket
from bot.events import Button, ChatRef
from bot.outbox import Outbox
from handlers.texts import ticket_names, ticket_notices, ticket_ratings


class Notifier:
    """Implements the domain's notifier ports (TicketNotifier, ...)."""

    def __init__(self, outbox: Outbox, directory: Directory, timezone: ZoneInfo) -> None:
        self._outbox, self._directory, self._timezone = outbox, directory, timezone

    async def urgent_opened(self, ticket: Ticket, recipients: Sequence[Person]) -> None:
        """Private urgent alerts, sent ahead of any paced traffic."""
        group = self._directory.group(ticket.source.group_id) if ticket.source.group_id else None
        where = group.name if group is not None else "私聊"
        text = ticket_notices.urgent_alert(ticket, where, self._timezone)
        for person in recipients:
            await self._outbox.to_person(
                person, text, urgent=True, prefer=ticket.source.chat.platform
            )

    async def assigned(self, ticket: Ticket, assignee: Person, by: Person) -> None:
        """Tell the new assignee privately."""
        text = ticket_notices.assigned_notice(ticket, by, self._timezone)
        await self._outbox.to_person(assignee, text, prefer=ticket.source.chat.platform)

    async def progress(self, ticket: Ticket, recipients: Sequence[Person]) -> None:
        """Tell reporters and followers where their ticket stands (privately, else in the group)."""
        text = ticket_notices.progress_notice(ticket)
        for person in recipients:
            await self._tell(ticket, person, text)

    async def ask_rating(self, ticket: Ticket, person: Person) -> ChatRef | None:
        """The follow-up question with 1/2/3 buttons; where it was asked, or None."""
        text = ticket_ratings.rating_question(ticket)
        return await self._tell(ticket, person, text, ticket_ratings.rating_buttons(ticket))

    async def reminder(self, ticket: Ticket, kind: DueKind, recipients: Sequence[Person]) -> None:
        """Remind the assignees privately that a deadline is near."""
        text = ticket_notices.deadline_reminder(ticket, kind, self._timezone)
        for person in recipients:
            await self._outbox.to_person(person, text, prefer=ticket.source.chat.platform)

    async def escalated(
        self, ticket: Ticket, kind: DueKind | None, level: Node, recipients: Sequence[Person]
    ) -> None:
        """The private 督办 notice to the level above and to the assignees."""
        text = ticket_notices.escalation_notice(ticket, kind, level.name, self._timezone)
        for person in recipients:
            await self._outbox.to_person(person, text, prefer=ticket.source.chat.platform)

    async def _tell(
        self, ticket: Ticket, person: Person, text: str, buttons: tuple[Button, ...] = ()
    ) -> ChatRef | None:
        """Privately where the platform allows it, else a mention in the ticket's group."""
        platform = ticket.source.chat.platform
        if await self._outbox.to_person(person, text, prefer=platform, buttons=buttons):
            return ChatRef(platform, person.id, is_group=False)
        if ticket.request_type in ticket_names.DISCREET_TYPES:
            return None  # a mention would tell the group who complained
        group = self._directory.group(ticket.source.group_id) if ticket.source.group_id else None
        if group is None or not await self._outbox.to_group(
            group, ticket_notices.mention(person.name, text), buttons=buttons
        ):
            return None
        return ticket.source.chat
