"""Visitor-day dates (short months, weekends, holidays) and quiet hours, as tables."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.community import Level
from bot.domain.reminders import QuietHours, at_local
from bot.domain.visitor_days import VisitorDayRules

TZ = ZoneInfo("Asia/Shanghai")


def _rules(days: tuple[int, ...] = (1, 11, 21), *, move: bool = False) -> VisitorDayRules:
    return VisitorDayRules(
        days=days,
        start=time(9),
        end=time(11, 30),
        place=None,
        remind_day_before=time(18),
        remind_same_day=time(8),
        levels=(Level.COMMUNITY,),
        holidays=frozenset({date(2027, 1, 1), date(2026, 10, 1), date(2026, 10, 2)}),
        move_off_holidays=move,
    )


@pytest.mark.parametrize(
    ("days", "move", "first", "last", "expected"),
    [
        ((1, 11, 21), False, date(2026, 12, 1), date(2026, 12, 31), [1, 11, 21]),
        # 31 falls on the last day of shorter months; 29-31 collapse onto 28 Feb.
        ((31,), False, date(2026, 11, 1), date(2026, 11, 30), [30]),
        ((29, 30, 31), False, date(2027, 2, 1), date(2027, 2, 28), [28]),
        # Kept on a weekend or holiday when the policy is "keep".
        ((1, 11, 21), False, date(2026, 11, 1), date(2026, 11, 30), [1, 11, 21]),
        # "next_workday": 21 Nov 2026 is a Saturday -> Monday 23; 1 Nov a Sunday -> Monday 2.
        ((1, 11, 21), True, date(2026, 11, 1), date(2026, 11, 30), [2, 11, 23]),
        # 1 Oct (holiday, Thursday) -> 2 Oct is a holiday too -> Saturday, Sunday -> Monday 5.
        ((1, 11, 21), True, date(2026, 10, 1), date(2026, 10, 31), [5, 12, 21]),
    ],
)
def test_visitor_dates(
    days: tuple[int, ...], move: bool, first: date, last: date, expected: list[int]
) -> None:
    found = _rules(days, move=move).dates_between(first, last)
    assert [day.day for day in found] == expected
    assert all(day.month == first.month for day in found)


def test_a_day_moved_off_a_holiday_can_cross_into_the_next_month() -> None:
    rules = _rules((1,), move=True)
    # 1 Jan 2027 is a holiday on a Friday: the visitor day is Monday 4 Jan.
    assert rules.dates_between(date(2027, 1, 1), date(2027, 1, 31)) == [date(2027, 1, 4)]
    assert rules.moved_from(date(2027, 1, 4)) == date(2027, 1, 1)
    assert rules.moved_from(date(2026, 12, 1)) is None
    # 31 Jan 2027 is a Sunday: with days=[31] it moves to Monday 1 Feb.
    month_end = _rules((31,), move=True)
    assert month_end.dates_between(date(2027, 2, 1), date(2027, 2, 28)) == [date(2027, 2, 1)]


QUIET = QuietHours(time(21, 30), time(7, 30), TZ)


@pytest.mark.parametrize(
    ("local", "released"),
    [
        (datetime(2026, 12, 1, 21, 29, tzinfo=TZ), datetime(2026, 12, 1, 21, 29, tzinfo=TZ)),
        (datetime(2026, 12, 1, 21, 30, tzinfo=TZ), datetime(2026, 12, 2, 7, 30, tzinfo=TZ)),
        (datetime(2026, 12, 1, 23, 59, tzinfo=TZ), datetime(2026, 12, 2, 7, 30, tzinfo=TZ)),
        (datetime(2026, 12, 2, 3, 0, tzinfo=TZ), datetime(2026, 12, 2, 7, 30, tzinfo=TZ)),
        (datetime(2026, 12, 2, 7, 30, tzinfo=TZ), datetime(2026, 12, 2, 7, 30, tzinfo=TZ)),
        (datetime(2026, 12, 2, 12, 0, tzinfo=TZ), datetime(2026, 12, 2, 12, 0, tzinfo=TZ)),
    ],
)
def test_quiet_hours_hold_until_morning(local: datetime, released: datetime) -> None:
    assert QUIET.release_at(local) == released


def test_no_quiet_hours_when_start_equals_end() -> None:
    always = QuietHours(time(0), time(0), TZ)
    assert not always.contains(datetime(2026, 12, 1, 23, 0, tzinfo=TZ))


def test_local_times_do_not_depend_on_the_host_zone() -> None:
    assert at_local(date(2026, 12, 11), time(8), TZ) == datetime(
        2026, 12, 11, 0, 0, tzinfo=ZoneInfo("UTC")
    )
