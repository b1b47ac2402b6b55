"""The three rates (响应率, 解决率, 满意率) of a node over a period, and how periods are named.

Definitions, over the tickets opened in the period that were neither merged nor referred:
- 响应率: accepted by the response deadline / tickets due for response (accepted, or deadline past);
- 解决率: resolved (or closed after resolving) / tickets due for resolution (resolved, or deadline
  past);
- 满意率: (满意 + 基本满意) / follow-up answers given; unanswered follow-ups are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class RateCounts:
    """The numerators and denominators behind the three rates."""

    opened: int = 0
    due_response: int = 0
    responded_in_time: int = 0
    due_resolution: int = 0
    resolved: int = 0
    rated: int = 0
    satisfied: int = 0

    @property
    def response_rate(self) -> Fraction | None:
        """响应率, or None when nothing was due yet."""
        return _ratio(self.responded_in_time, self.due_response)

    @property
    def resolution_rate(self) -> Fraction | None:
        """解决率, or None when nothing was due yet."""
        return _ratio(self.resolved, self.due_resolution)

    @property
    def satisfaction_rate(self) -> Fraction | None:
        """满意率, or None when nobody rated."""
        return _ratio(self.satisfied, self.rated)


def _ratio(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span of time [since, until), in UTC."""

    since: datetime
    until: datetime


def last_days(now: datetime, days: int, timezone: ZoneInfo) -> Period:
    """The last `days` local calendar days including today, up to now."""
    today = now.astimezone(timezone).date()
    return Period(_local_midnight(today - timedelta(days=days - 1), timezone), now)


def this_week(now: datetime, timezone: ZoneInfo) -> Period:
    """Since Monday 00:00 local time, up to now."""
    today = now.astimezone(timezone).date()
    return Period(_local_midnight(today - timedelta(days=today.weekday()), timezone), now)


def this_month(now: datetime, timezone: ZoneInfo) -> Period:
    """Since the 1st of this month 00:00 local time, up to now."""
    today = now.astimezone(timezone).date()
    return Period(_local_midnight(today.replace(day=1), timezone), now)


def _local_midnight(day: date, timezone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=timezone)
