"""Renders domain notifications with handlers/texts and stores them in the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.domain.community import Directory, Person
from bot.domain.tickets import Ticket
from bot.outbox import Outbox
from handlers.texts import tickets as ticket_texts


class Notifier:
    """Implements the domain's notifier ports (TicketNotifier, ...)."""

    def __init__(self, outbox: Outbox, directory: Directory, timezone: ZoneInfo) -> None:
        self._outbox, self._directory, self._timezone = outbox, directory, timezone

    async def urgent_opened(self, ticket: Ticket, recipients: Sequence[Person]) -> None:
        """Private urgent alerts, sent ahead of any paced traffic."""
        group = self._directory.group(ticket.source.group_id) if ticket.source.group_id else None
        where = group.name if group is not None else "私聊"
        text = ticket_texts.urgent_alert(ticket, where, self._timezone)
        for person in recipients:
            await self._outbox.to_person(
                person, text, urgent=True, prefer=ticket.source.chat.platform
            )
