"""开门接访: which dates are visitor days, who is on duty, and their reminders to the groups,
each sent exactly once (late if the day has not passed, else skipped with a note).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.community import Directory, Group, Level, Person, Role
from bot.domain.reminders import (
    QuietHours,
    SendLedger,
    SendOutcome,
    at_local,
    month_day,
)
from bot.domain.units import UnitOfWork
from bot.errors import InvalidInput, NotAllowed

# How far back run_due looks for reminders it has not handled (a longer outage is skipped).
LOOK_BACK = timedelta(days=40)
# How far ahead next_due_at looks; the safety tick covers anything beyond.
LOOK_AHEAD_DAYS = 70
EPOCH_KEY = "epoch:visitor_days"
SATURDAY = 6


class VisitorReminderKind(StrEnum):
    """The evening before, and the morning of, a visitor day."""

    DAY_BEFORE = "day_before"
    SAME_DAY = "same_day"


@dataclass(frozen=True, slots=True)
class VisitorDayRules:
    """The [visitor_days] config in domain terms; `duty` maps dates to the names on duty."""

    days: tuple[int, ...]
    start: time
    end: time
    place: str | None
    remind_day_before: time
    remind_same_day: time
    levels: tuple[Level, ...]
    holidays: frozenset[date] = frozenset()
    move_off_holidays: bool = False
    duty: Mapping[date, tuple[str, ...]] = field(default_factory=dict)

    def is_workday(self, day: date) -> bool:
        """Neither a weekend nor a configured public holiday."""
        return day.isoweekday() < SATURDAY and day not in self.holidays

    def dates_between(self, first: date, last: date) -> list[date]:
        """Visitor days from `first` to `last`: short months use their last day, and with
        `move_off_holidays` a day on a weekend or holiday moves to the next workday."""
        return sorted(self._scheduled_between(first, last))

    def moved_from(self, day: date) -> date | None:
        """The date a visitor day was moved from (weekend or holiday), if it was moved."""
        scheduled = self._scheduled_between(day, day).get(day)
        return scheduled if scheduled is not None and scheduled != day else None

    def _scheduled_between(self, first: date, last: date) -> dict[date, date]:
        """Each visitor day from `first` to `last`, mapped to the date it was scheduled for."""
        found: dict[date, date] = {}
        # Start a month early: a late-month day can move into the next month.
        year, month = (first.year, first.month - 1) if first.month > 1 else (first.year - 1, 12)
        while date(year, month, 1) <= last:
            for day_number in self.days:
                scheduled = month_day(year, month, day_number)
                actual = scheduled
                while self.move_off_holidays and not self.is_workday(actual):
                    actual += timedelta(days=1)
                if first <= actual <= last:
                    found[actual] = min(found.get(actual, scheduled), scheduled)
            year, month = (year, month + 1) if month < 12 else (year + 1, 1)
        return found


@dataclass(frozen=True, slots=True)
class VisitorDay:
    """One visitor day as residents are told about it."""

    day: date
    start: time
    end: time
    place: str | None
    duty: tuple[str, ...]
    moved_from: date | None = None


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One reminder of one visitor day."""

    day: date
    kind: VisitorReminderKind
    due_at: datetime


def _stem(occurrence: Occurrence) -> str:
    """The ledger key of an occurrence, without the group: visitor:2026-12-11:same_day."""
    return f"visitor:{occurrence.day.isoformat()}:{occurrence.kind.value}"


class DutyRepository(Protocol):
    """Storage port for duty set in chat (storage/reminders.py); it overrides the config."""

    async def set(self, day: date, names: Sequence[str], by: str, at: datetime) -> None:
        """Store who is on duty on `day`."""
        ...

    async def get(self, day: date) -> tuple[str, ...] | None:
        """Who was set in chat for `day`, if anyone."""
        ...


class VisitorDayNotifier(Protocol):
    """Renders and stores visitor-day messages (handlers/reminders.py)."""

    async def visitor_day(
        self, group: Group, day: VisitorDay, kind: VisitorReminderKind, not_before_at: datetime
    ) -> None:
        """Remind one group of a visitor day."""
        ...

    async def visitor_day_missed(
        self, recipients: Sequence[Person], day: VisitorDay, not_before_at: datetime
    ) -> None:
        """Tell secretaries that a visitor day's reminders were skipped (Linli was down)."""
        ...


class VisitorDayService:
    """Computes visitor days and sends their reminders once each, from the ledger's view."""

    def __init__(
        self,
        rules: VisitorDayRules,
        duty: DutyRepository,
        ledger: SendLedger,
        notifier: VisitorDayNotifier,
        unit_of_work: UnitOfWork,
        directory: Directory,
        quiet_hours: QuietHours,
        clock: Clock,
    ) -> None:
        self._rules, self._duty, self._ledger, self._notifier = rules, duty, ledger, notifier
        self._unit_of_work, self._directory = unit_of_work, directory
        self._quiet, self._clock = quiet_hours, clock
        self._epoch_at: datetime | None = None
        self.name = "visitor_days"

    @property
    def timezone(self) -> ZoneInfo:
        """The community's time zone."""
        return self._quiet.timezone

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.timezone).date()

    def occurrences(self, first: date, last: date) -> list[Occurrence]:
        """Every reminder of the visitor days from `first` to `last`, in time order."""
        found: list[Occurrence] = []
        for day in self._rules.dates_between(first, last):
            before = at_local(day - timedelta(days=1), self._rules.remind_day_before, self.timezone)
            same = at_local(day, self._rules.remind_same_day, self.timezone)
            found.append(Occurrence(day, VisitorReminderKind.DAY_BEFORE, before))
            found.append(Occurrence(day, VisitorReminderKind.SAME_DAY, same))
        return sorted(found, key=lambda occurrence: occurrence.due_at)

    def groups(self) -> list[Group]:
        """The groups reminded: every group of a configured level."""
        return [g for g in self._directory.groups() if g.level in self._rules.levels]

    async def visitor_day(self, day: date) -> VisitorDay:
        """The visitor day on `day` with its duty roster (set in chat, else from the config)."""
        duty = await self._duty.get(day)
        if duty is None:
            duty = self._rules.duty.get(day, ())
        return VisitorDay(
            day=day,
            start=self._rules.start,
            end=self._rules.end,
            place=self._rules.place,
            duty=duty,
            moved_from=self._rules.moved_from(day),
        )

    async def next_visitor_day(self) -> VisitorDay | None:
        """The next visitor day that has not ended yet."""
        now = self._clock.now()
        today = self._local_date(now)
        for day in self._rules.dates_between(today, today + timedelta(days=LOOK_AHEAD_DAYS)):
            if at_local(day, self._rules.end, self.timezone) > now:
                return await self.visitor_day(day)
        return None

    async def set_duty(self, day: date, names: Sequence[str], person: Person) -> VisitorDay:
        """The secretary names who receives visitors on a visitor day."""
        if not person.has(Role.SECRETARY):
            raise NotAllowed("visitor_day.not_allowed")
        if day not in self._rules.dates_between(day, day):
            raise InvalidInput("visitor_day.not_a_visitor_day", month=day.month, day=day.day)
        if not names:
            raise InvalidInput("visitor_day.no_names")
        await self._duty.set(day, names, person.id, self._clock.now())
        return await self.visitor_day(day)

    async def _epoch(self, now: datetime) -> datetime:
        """When this service first ran on this database (stored once, so cached after)."""
        if self._epoch_at is None:
            self._epoch_at = await self._ledger.first(EPOCH_KEY, now)
        return self._epoch_at

    async def run_due(self) -> None:
        """Send each reminder due up to now that is not in the ledger yet."""
        now = self._clock.now()
        # Reminders due before Linli first ran here are history, not something it missed.
        since = max(await self._epoch(now), now - LOOK_BACK)
        pending = [
            occurrence
            for occurrence in self.occurrences(
                self._local_date(since) - timedelta(days=1),
                self._local_date(now) + timedelta(days=1),
            )
            if since <= occurrence.due_at <= now
        ]
        groups = self.groups()
        # One read for every key in the window: after a send, each tick costs only this.
        done = await self._ledger.claimed(
            [f"{_stem(o)}:{group.id}" for o in pending for group in groups]
        )
        for occurrence in pending:
            superseded = any(
                later.day == occurrence.day and later.due_at > occurrence.due_at
                for later in pending
            )
            await self._handle(occurrence, now, done, superseded=superseded)

    async def _handle(
        self, occurrence: Occurrence, now: datetime, done: set[str], *, superseded: bool
    ) -> None:
        groups = {f"{_stem(occurrence)}:{group.id}": group for group in self.groups()}
        missing = set(groups) - done
        if not missing:
            return
        passed = now >= at_local(occurrence.day, self._rules.end, self.timezone)
        day = await self.visitor_day(occurrence.day)
        async with self._unit_of_work.transaction():
            for key in sorted(missing):
                if passed or superseded:
                    outcome = SendOutcome.SKIPPED if passed else SendOutcome.SUPERSEDED
                    await self._ledger.claim(key, occurrence.due_at, now, outcome)
                    continue
                late = now - occurrence.due_at > timedelta(minutes=5)
                outcome = SendOutcome.LATE if late else SendOutcome.SENT
                if await self._ledger.claim(key, occurrence.due_at, now, outcome):
                    await self._notifier.visitor_day(
                        groups[key], day, occurrence.kind, self._quiet.release_at(now)
                    )
            if passed and await self._ledger.claim(
                f"visitor:{occurrence.day.isoformat()}:missed", occurrence.due_at, now,
                SendOutcome.SENT,
            ):  # fmt: skip
                await self._notifier.visitor_day_missed(
                    self._secretaries(), day, self._quiet.release_at(now)
                )

    def _secretaries(self) -> list[Person]:
        return [p for p in self._directory.people() if p.has(Role.SECRETARY)]

    async def next_due_at(self) -> datetime | None:
        """The next reminder instant after now (catch-up of older ones runs at every tick)."""
        now = self._clock.now()
        today = self._local_date(now)
        upcoming = self.occurrences(today, today + timedelta(days=LOOK_AHEAD_DAYS))
        return next((o.due_at for o in upcoming if o.due_at > now), None)
