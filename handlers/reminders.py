"""Reminder and duty commands (/remind, /reminders, /cancel, /duty), and the messages that the
reminder and visitor-day services send, rendered and stored for scheduled delivery.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.context import HandlerContext
from bot.domain.community import Directory, Group, Person
from bot.domain.reminders import Reminder, ReminderRequest
from bot.domain.visitor_days import VisitorDay, VisitorReminderKind
from bot.errors import InvalidInput, NotAllowed
from bot.events import IncomingMessage
from bot.outbox import Outbox
from bot.replies import Reply
from bot.router import Match, Router
from handlers.texts import reminders as texts
from nlp.timeparse import parse_when

logger = logging.getLogger(__name__)
router = Router("reminders")
_NAME_SEPARATORS = re.compile(r"[\s、，,和]+")


@router.command("remind", "提醒")
async def set_reminder(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/提醒 明天上午9点 收电费`: a reminder for this group (or privately for the sender)."""
    service = ctx.services.reminders
    when = parse_when(match.args, ctx.now, service.timezone)
    if when is None or not when.rest:
        raise InvalidInput.literal(texts.USAGE_REMIND)
    request = ReminderRequest(text=when.rest, at=when.at, recurrence=when.recurrence)
    group = ctx.group if msg.chat.is_group else None
    if group is None and msg.chat.is_group:
        raise NotAllowed.literal(texts.NOT_ALLOWED_REMIND)
    reminder = await service.create(request, ctx.person, group)
    quiet = reminder.next_at is not None and service.is_quiet(reminder.next_at)
    return Reply(texts.reminder_set(reminder, service.timezone, quiet=quiet))


@router.command("reminders", "提醒列表")
async def list_reminders(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """The sender's active reminders (the secretary sees all), privately."""
    service = ctx.services.reminders
    reminders = await service.list_for(ctx.person)
    return Reply(texts.reminder_list(reminders, service.timezone), private=True)


@router.command("cancel", "取消提醒")
async def cancel_reminder(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/取消提醒 3`."""
    number = match.args.strip().lstrip("#")
    if not number.isdigit():
        raise InvalidInput.literal(texts.USAGE_CANCEL)
    reminder = await ctx.services.reminders.cancel(int(number), ctx.person)
    return Reply(texts.reminder_cancelled(reminder))


@router.command("duty", "值班")
async def set_duty(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/值班 12月11日 陈书记`: who receives visitors on a visitor day."""
    service = ctx.services.visitor_days
    when = parse_when(match.args, ctx.now, service.timezone)
    if when is None or when.local_date is None:
        raise InvalidInput.literal(texts.USAGE_DUTY)
    names = [name for name in _NAME_SEPARATORS.split(when.rest) if name]
    day = await service.set_duty(when.local_date, names, ctx.person)
    return Reply(texts.duty_set(day))


class ReminderMessages:
    """Implements ReminderNotifier and VisitorDayNotifier with handlers/texts/reminders."""

    def __init__(self, messages: Outbox, directory: Directory, timezone: ZoneInfo):
        self._messages, self._directory, self._timezone = messages, directory, timezone

    async def remind(self, reminder: Reminder, not_before_at: datetime) -> None:
        """Post the reminder in its group, or privately to its creator."""
        text = texts.reminder_message(reminder)
        group = self._directory.group(reminder.group_id) if reminder.group_id else None
        if group is not None:
            await self._messages.to_group(group, text, not_before_at=not_before_at)
            return
        creator = self._creator(reminder)
        await self._messages.to_person(creator, text, not_before_at=not_before_at)

    async def reminder_missed(
        self, reminder: Reminder, due_at: datetime, not_before_at: datetime
    ) -> None:
        """Tell the creator privately that one occurrence was skipped."""
        text = texts.reminder_missed(reminder, due_at, self._timezone)
        await self._messages.to_person(self._creator(reminder), text, not_before_at=not_before_at)

    def _creator(self, reminder: Reminder) -> Person:
        known = self._directory.person(reminder.creator_id)
        if known is not None:
            return known
        # Only configured staff may set reminders, so this is a person removed from the config.
        return Person(reminder.creator_id, reminder.creator_name, (), self._directory.community.id)

    async def visitor_day(
        self, group: Group, day: VisitorDay, kind: VisitorReminderKind, not_before_at: datetime
    ) -> None:
        """Remind one group of a visitor day."""
        await self._messages.to_group(
            group, texts.visitor_day(day, kind), not_before_at=not_before_at
        )

    async def visitor_day_missed(
        self, recipients: Sequence[Person], day: VisitorDay, not_before_at: datetime
    ) -> None:
        """A note to each secretary."""
        for person in recipients:
            await self._messages.to_person(
                person, texts.visitor_day_missed(day), not_before_at=not_before_at
            )
