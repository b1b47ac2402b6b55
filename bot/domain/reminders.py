"""Reminders set by command, plus what every schedule shares: recurrences, quiet hours, and the
ledger of scheduled sends that makes each send happen exactly once across restarts.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.community import Directory, Group, Level, Person, Role
from bot.domain.units import UnitOfWork
from bot.errors import InvalidInput, NotAllowed, NotFound

# A reminder occurrence missed (bot down) by more than this is skipped, with a note instead.
LATE_LIMIT = timedelta(hours=12)


# -- what every schedule shares ------------------------------------------------------------------
class SendOutcome(StrEnum):
    """What happened to one scheduled send."""

    SENT = "sent"
    LATE = "late"
    SKIPPED = "skipped"
    SUPERSEDED = "superseded"
    MARK = "mark"


class SendLedger(Protocol):
    """Storage port for scheduled sends: one row per deterministic key (storage/reminders.py)."""

    async def claim(self, key: str, due_at: datetime, at: datetime, outcome: SendOutcome) -> bool:
        """Record the key; False when it was recorded before (then do nothing)."""
        ...

    async def claimed(self, keys: Sequence[str]) -> set[str]:
        """Which of these keys are recorded."""
        ...

    async def first(self, key: str, at: datetime) -> datetime:
        """The time stored under `key`, storing `at` there first when the key is new."""
        ...


@dataclass(frozen=True, slots=True)
class QuietHours:
    """No pushes from `start` to `end` local time (may wrap midnight); start == end: none."""

    start: time
    end: time
    timezone: ZoneInfo

    def contains(self, instant: datetime) -> bool:
        """True when `instant` falls in the quiet hours."""
        moment = instant.astimezone(self.timezone).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def release_at(self, instant: datetime) -> datetime:
        """`instant`, or the end of the quiet hours it falls in (what waits for the morning)."""
        if not self.contains(instant):
            return instant
        local = instant.astimezone(self.timezone)
        day = local.date() if local.time() < self.end else local.date() + timedelta(days=1)
        return at_local(day, self.end, self.timezone)


def at_local(day: date, moment: time, timezone: ZoneInfo) -> datetime:
    """The aware UTC instant of a local wall-clock time (DST gaps resolve forward)."""
    local = datetime.combine(day, moment, tzinfo=timezone)
    # Round-trip through UTC so a non-existent local time (a DST gap) lands on a real instant.
    return local.astimezone(UTC)


def next_local(now: datetime, moment: time, timezone: ZoneInfo) -> datetime:
    """The first instant after `now` when the local wall clock shows `moment`: today's if it
    is still ahead, else tomorrow's (for what happens once a day)."""
    today = now.astimezone(timezone).date()
    due = at_local(today, moment, timezone)
    return due if due > now else at_local(today + timedelta(days=1), moment, timezone)


def month_day(year: int, month: int, day: int) -> date:
    """Day `day` of the month, or its last day when the month is shorter (31 -> 30 Nov)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


class RecurrenceKind(StrEnum):
    """How a reminder repeats."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class Recurrence:
    """Every day, every week on `day` (1 = Monday), or every month on `day` (1..31), at `at`."""

    kind: RecurrenceKind
    at: time
    day: int = 0

    def next_after(self, instant: datetime, timezone: ZoneInfo) -> datetime:
        """The first occurrence strictly after `instant`."""
        local_day = instant.astimezone(timezone).date()
        for offset in range(0, 63):
            candidate_day = local_day + timedelta(days=offset)
            if self.matches(candidate_day):
                candidate = at_local(candidate_day, self.at, timezone)
                if candidate > instant:
                    return candidate
        raise ValueError(f"no occurrence of {self} within two months")

    def matches(self, day: date) -> bool:
        """True when the recurrence falls on `day`; short months use their last day."""
        if self.kind is RecurrenceKind.DAILY:
            return True
        if self.kind is RecurrenceKind.WEEKLY:
            return day.isoweekday() == self.day
        return day == month_day(day.year, day.month, self.day)


# -- reminders set by command --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Reminder:
    """A reminder for a group (or privately for its creator when `group_id` is None)."""

    id: int
    text: str
    creator_id: str
    creator_name: str
    group_id: str | None
    recurrence: Recurrence | None
    next_at: datetime | None
    created_at: datetime
    cancelled_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Not cancelled and not yet done."""
        return self.cancelled_at is None and self.next_at is not None


class ReminderRepository(Protocol):
    """Storage port for reminders (storage/reminders.py)."""

    async def add(self, reminder: Reminder) -> Reminder:
        """Store a new reminder; its id is assigned here."""
        ...

    async def get(self, reminder_id: int) -> Reminder | None:
        """One reminder, active or not."""
        ...

    async def list_active(self, creator_id: str | None) -> list[Reminder]:
        """Active reminders, soonest first; only one creator's unless None."""
        ...

    async def due(self, now: datetime) -> list[Reminder]:
        """Active reminders whose next occurrence is at or before `now`."""
        ...

    async def advance(self, reminder_id: int, next_at: datetime | None) -> None:
        """Move to the next occurrence (None: done)."""
        ...

    async def cancel(self, reminder_id: int, at: datetime) -> None:
        """Stop the reminder."""
        ...

    async def next_at(self) -> datetime | None:
        """The earliest next occurrence of any active reminder."""
        ...


class ReminderNotifier(Protocol):
    """Renders and stores reminder messages (handlers/reminders.py)."""

    async def remind(self, reminder: Reminder, not_before_at: datetime) -> None:
        """Post the reminder in its group, or privately to its creator."""
        ...

    async def reminder_missed(
        self, reminder: Reminder, due_at: datetime, not_before_at: datetime
    ) -> None:
        """Tell the creator that an occurrence was skipped because Linli was down."""
        ...


def may_set_reminder(person: Person, group: Group | None, directory: Directory) -> bool:
    """DOMAIN.md: leaders in their stairwell group, compound secretaries in their compound's
    groups, the secretary anywhere; in a private chat any of them, for themselves."""
    if person.has(Role.SECRETARY):
        return True
    if group is None:
        return person.has(Role.COMPOUND_SECRETARY, Role.BUILDING_LEADER)
    if person.has(Role.COMPOUND_SECRETARY):
        compound = directory.compound_of(person.node)
        if compound is not None and directory.is_within(group.node, compound.id):
            return True
    if person.has(Role.BUILDING_LEADER):
        return group.level is Level.STAIRWELL and group.node == person.node
    return False


@dataclass(frozen=True, slots=True)
class ReminderRequest:
    """What `/remind` asked for: one instant or a recurrence, and the text."""

    text: str
    at: datetime | None = None
    recurrence: Recurrence | None = None


class ReminderService:
    """Creates, lists, cancels and fires reminders; the database says what is due."""

    def __init__(
        self,
        reminders: ReminderRepository,
        ledger: SendLedger,
        notifier: ReminderNotifier,
        unit_of_work: UnitOfWork,
        directory: Directory,
        quiet_hours: QuietHours,
        clock: Clock,
    ) -> None:
        self._reminders, self._ledger, self._notifier = reminders, ledger, notifier
        self._unit_of_work, self._directory = unit_of_work, directory
        self._quiet, self._clock = quiet_hours, clock
        self.name = "reminders"

    @property
    def timezone(self) -> ZoneInfo:
        """The community's time zone."""
        return self._quiet.timezone

    async def create(
        self, request: ReminderRequest, person: Person, group: Group | None
    ) -> Reminder:
        """Save a reminder as a row; the scheduler only reads rows."""
        if not may_set_reminder(person, group, self._directory):
            raise NotAllowed("reminder.not_allowed")
        if not request.text.strip():
            raise InvalidInput("reminder.no_text")
        now = self._clock.now()
        first = request.at
        if request.recurrence is not None:
            first = request.recurrence.next_after(now, self.timezone)
        if first is None:
            raise InvalidInput("reminder.no_time")
        if first <= now:
            raise InvalidInput("reminder.in_past")
        return await self._reminders.add(
            Reminder(
                id=0,
                text=request.text.strip(),
                creator_id=person.id,
                creator_name=person.name,
                group_id=group.id if group is not None else None,
                recurrence=request.recurrence,
                next_at=first,
                created_at=now,
            )
        )

    def is_quiet(self, instant: datetime) -> bool:
        """True when a push at `instant` waits for the end of the quiet hours."""
        return self._quiet.contains(instant)

    async def list_for(self, person: Person) -> list[Reminder]:
        """The secretary sees every active reminder; others see the ones they set."""
        return await self._reminders.list_active(None if person.has(Role.SECRETARY) else person.id)

    async def cancel(self, reminder_id: int, person: Person) -> Reminder:
        """The creator or the secretary stops a reminder."""
        reminder = await self._reminders.get(reminder_id)
        if reminder is None or not reminder.active:
            raise NotFound("reminder.not_found", reminder_id=reminder_id)
        if reminder.creator_id != person.id and not person.has(Role.SECRETARY):
            raise NotAllowed("reminder.cancel_not_allowed")
        await self._reminders.cancel(reminder.id, self._clock.now())
        return reminder

    async def run_due(self) -> None:
        """Send every occurrence due up to now exactly once, and move each reminder on."""
        now = self._clock.now()
        for reminder in await self._reminders.due(now):
            await self._fire(reminder, now)

    async def _fire(self, reminder: Reminder, now: datetime) -> None:
        occurrence = reminder.next_at
        if occurrence is None:
            return
        key = f"reminder:{reminder.id}:{occurrence.astimezone(self.timezone):%Y-%m-%dT%H:%M}"
        late = now - occurrence > LATE_LIMIT
        outcome = SendOutcome.SKIPPED if late else SendOutcome.SENT
        async with self._unit_of_work.transaction():
            if await self._ledger.claim(key, occurrence, now, outcome):
                if late:
                    await self._notifier.reminder_missed(
                        reminder, occurrence, self._quiet.release_at(now)
                    )
                else:
                    await self._notifier.remind(reminder, self._quiet.release_at(now))
            # Occurrences missed while down collapse into the one above; the next is after now.
            following = (
                reminder.recurrence.next_after(max(now, occurrence), self.timezone)
                if reminder.recurrence is not None
                else None
            )
            await self._reminders.advance(reminder.id, following)

    async def next_due_at(self) -> datetime | None:
        """When the scheduler should next call `run_due`."""
        return await self._reminders.next_at()
