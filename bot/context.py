"""What a handler gets besides the message: the services, who is talking, and where."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.bindings import BindingService
from bot.domain.community import Directory, Group, Person
from bot.domain.conversations import Conversation, ConversationService
from bot.domain.digests import DigestService
from bot.domain.reminders import ReminderService
from bot.domain.tags import TagService
from bot.domain.tickets import TicketService
from bot.domain.visitor_days import VisitorDayService
from bot.domain.vote_service import VoteService
from bot.outbox import Outbox
from nlp import Classification


@dataclass(frozen=True, slots=True)
class Services:
    """Every service, built once by bot/app.py."""

    tickets: TicketService
    bindings: BindingService
    conversations: ConversationService
    directory: Directory
    outbox: Outbox
    timezone: ZoneInfo
    question_ttl: timedelta
    reminders: ReminderService
    visitor_days: VisitorDayService
    digests: DigestService
    votes: VoteService
    tags: TagService


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """One message's context: services plus the resolved sender, group and classification."""

    services: Services
    person: Person
    group: Group | None
    now: datetime
    classification: Classification | None = None
    location: str | None = None
    conversation: Conversation | None = None

    @property
    def tickets(self) -> TicketService:
        """The ticket service."""
        return self.services.tickets

    @property
    def conversations(self) -> ConversationService:
        """The flow store."""
        return self.services.conversations

    @property
    def directory(self) -> Directory:
        """Nodes, groups and people."""
        return self.services.directory
