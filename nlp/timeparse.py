"""Chinese time expressions at the start of a text: 明天上午9点, 下周三, 每月5号, 晚上8点半 ...

`parse_when(text, now, tz)` is pure: it returns a one-off instant or a recurrence plus the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.reminders import Recurrence, RecurrenceKind, at_local

_NUMBER = r"[0-9零〇一二两三四五六七八九十]{1,4}"
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}  # fmt: skip
_WEEKDAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7, "七": 7}
_WEEKDAY = r"[一二三四五六日天1-7]"
# The time a reminder goes out when only a day is given.
DEFAULT_TIME = time(9, 0)
# Hours for a bare period ("明天上午"), and which periods mean afternoon or evening hours.
_PERIOD_DEFAULTS = {"凌晨": 6, "清晨": 7, "早上": 8, "早晨": 8, "上午": 9, "中午": 12, "午后": 14,
                    "下午": 15, "傍晚": 18, "晚上": 20, "夜里": 21, "夜间": 21}  # fmt: skip
_AFTERNOON = frozenset({"午后", "下午", "傍晚", "晚上", "夜里", "夜间"})
_PERIOD = "|".join(sorted(_PERIOD_DEFAULTS, key=len, reverse=True))
# Nobody sets a reminder for 3 a.m.: a bare "3点" means 15:00.
_LAST_BARE_SMALL_HOUR = 6
_SEPARATORS = " \t\u3000,，:：;；、。.-—~"

_EVERY_DAY = re.compile(r"每(?:天|日)")
_EVERY_WEEK = re.compile(rf"每个?(?:周|星期|礼拜)({_WEEKDAY})")
_EVERY_MONTH = re.compile(rf"每个?月({_NUMBER})(?:号|日)")
_RELATIVE_DAY = re.compile(r"(大后天|后天|明天|今天|明早|明晚|今早|今晚)")
_WEEK_DAY = re.compile(rf"(下下个?|下个?|这个?|本)?(?:周|星期|礼拜)({_WEEKDAY})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_MONTH_DAY = re.compile(rf"(?:(\d{{4}})年)?({_NUMBER})月({_NUMBER})(?:号|日)?")
_DAY_OF_MONTH = re.compile(rf"({_NUMBER})(?:号|日)(?![楼院栋幢室])")
_IN_SPAN = re.compile(rf"({_NUMBER}|半)个?(小时|钟头|分钟)(?:以?后|之后)")
_PERIOD_WORD = re.compile(rf"({_PERIOD})")
_CLOCK = re.compile(r"(\d{1,2})[:：](\d{2})")
_HOUR = re.compile(rf"({_NUMBER})(?:点钟?|时)(?:(半)|(一刻)|(三刻)|({_NUMBER})分?)?")
_RELATIVE_OFFSETS = {"今天": 0, "今早": 0, "今晚": 0, "明天": 1, "明早": 1, "明晚": 1, "后天": 2,
                     "大后天": 3}  # fmt: skip
_RELATIVE_PERIODS = {"明早": "早上", "今早": "早上", "明晚": "晚上", "今晚": "晚上"}


@dataclass(frozen=True, slots=True)
class When:
    """A parsed time: exactly one of `at` (one-off) and `recurrence`, and the text after it."""

    rest: str
    at: datetime | None = None
    recurrence: Recurrence | None = None

    @property
    def local_date(self) -> date | None:
        """The day of a one-off instant in the zone it was parsed in."""
        return self.at.date() if self.at is not None else None


def chinese_number(text: str) -> int | None:
    """ "15", "十五", "二十一", "三十", "两" as integers; None when it is not a number."""
    if text.isdigit():
        return int(text)
    if any(char not in _DIGITS and char != "十" for char in text):
        return None
    if "十" not in text:
        value = 0
        for char in text:
            value = value * 10 + _DIGITS[char]
        return value
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


class _Cursor:
    """Walks the text from the start, consuming one expression at a time."""

    def __init__(self, text: str) -> None:
        self.text, self.position = text, 0

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        while self.position < len(self.text) and self.text[self.position] in " \t\u3000":
            self.position += 1
        found = pattern.match(self.text, self.position)
        if found is not None:
            self.position = found.end()
        return found

    @property
    def rest(self) -> str:
        return self.text[self.position :].strip(_SEPARATORS)


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> When | None:
    """The time expression at the start of `text`, or None when it does not start with one."""
    cursor = _Cursor(text.strip())
    local_now = now.astimezone(tz)
    span = cursor.take(_IN_SPAN)
    if span is not None:
        return _in_span(span, local_now, cursor.rest)
    recurrence = _recurrence(cursor)
    period_hint: str | None = None
    day: date | None = None
    if recurrence is None:
        day, period_hint = _day(cursor, local_now)
    moment = _moment(cursor, period_hint)
    if recurrence is not None:
        kind, number = recurrence
        return When(cursor.rest, recurrence=Recurrence(kind, moment or DEFAULT_TIME, number))
    if day is None and moment is None:
        return None
    if day is None and moment is not None:
        day = local_now.date()
        if at_local(day, moment, tz) <= now:
            day += timedelta(days=1)
    if day is None:
        return None
    instant = at_local(day, moment or DEFAULT_TIME, tz).astimezone(tz)
    return When(cursor.rest, at=instant)


def _in_span(found: re.Match[str], now: datetime, rest: str) -> When | None:
    amount = 0.5 if found.group(1) == "半" else chinese_number(found.group(1))
    if not amount:
        return None
    unit = timedelta(minutes=1) if found.group(2) == "分钟" else timedelta(hours=1)
    return When(rest, at=now + unit * amount)


def _recurrence(cursor: _Cursor) -> tuple[RecurrenceKind, int] | None:
    if cursor.take(_EVERY_DAY) is not None:
        return RecurrenceKind.DAILY, 0
    weekly = cursor.take(_EVERY_WEEK)
    if weekly is not None:
        return RecurrenceKind.WEEKLY, _weekday(weekly.group(1))
    monthly = cursor.take(_EVERY_MONTH)
    if monthly is not None:
        day = chinese_number(monthly.group(1))
        if day is not None and 1 <= day <= 31:
            return RecurrenceKind.MONTHLY, day
    return None


def _weekday(text: str) -> int:
    return int(text) if text.isdigit() else _WEEKDAYS[text]


DayParser = Callable[[re.Match[str], datetime], date | None]


def _day(cursor: _Cursor, local_now: datetime) -> tuple[date | None, str | None]:
    """A day expression, and the period it implies (明晚 = tomorrow evening)."""
    relative = cursor.take(_RELATIVE_DAY)
    if relative is not None:
        word = relative.group(1)
        offset = _RELATIVE_OFFSETS[word]
        return local_now.date() + timedelta(days=offset), _RELATIVE_PERIODS.get(word)
    parsers: tuple[tuple[re.Pattern[str], DayParser], ...] = (
        (_WEEK_DAY, _week_day),
        (_ISO_DATE, _iso_date),
        (_MONTH_DAY, _month_day),
        (_DAY_OF_MONTH, _day_of_month),
    )
    for pattern, parser in parsers:
        start = cursor.position
        found = cursor.take(pattern)
        if found is None:
            continue
        day = parser(found, local_now)
        if day is None:
            cursor.position = start
            return None, None
        return day, None
    return None, None


def _week_day(found: re.Match[str], local_now: datetime) -> date:
    prefix, weekday = found.group(1) or "", _weekday(found.group(2))
    today = local_now.date()
    monday = today - timedelta(days=today.isoweekday() - 1)
    if prefix.startswith("下下"):
        return monday + timedelta(days=14 + weekday - 1)
    if prefix.startswith("下"):
        return monday + timedelta(days=7 + weekday - 1)
    if prefix:
        return monday + timedelta(days=weekday - 1)
    # A bare 周三 is the coming Wednesday (today counts; a time already past is caught later).
    return today + timedelta(days=(weekday - today.isoweekday()) % 7)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _iso_date(found: re.Match[str], local_now: datetime) -> date | None:
    del local_now
    return _safe_date(int(found.group(1)), int(found.group(2)), int(found.group(3)))


def _month_day(found: re.Match[str], local_now: datetime) -> date | None:
    month, day = chinese_number(found.group(2)), chinese_number(found.group(3))
    if month is None or day is None:
        return None
    if found.group(1):
        return _safe_date(int(found.group(1)), month, day)
    candidate = _safe_date(local_now.year, month, day)
    if candidate is not None and candidate < local_now.date():
        candidate = _safe_date(local_now.year + 1, month, day)
    return candidate


def _day_of_month(found: re.Match[str], local_now: datetime) -> date | None:
    day = chinese_number(found.group(1))
    if day is None or not 1 <= day <= 31:
        return None
    year, month = local_now.year, local_now.month
    for _ in range(3):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate >= local_now.date():
            return candidate
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return None


def _moment(cursor: _Cursor, period_hint: str | None) -> time | None:
    """A time of day: 15:30, 下午三点, 晚上8点半, 9点一刻, or a bare period (上午)."""
    period_found = cursor.take(_PERIOD_WORD)
    period = period_found.group(1) if period_found is not None else period_hint
    clock = cursor.take(_CLOCK)
    if clock is not None:
        return _checked(_adjust(int(clock.group(1)), period), int(clock.group(2)))
    hour_found = cursor.take(_HOUR)
    if hour_found is None:
        return time(_PERIOD_DEFAULTS[period]) if period is not None else None
    hour = chinese_number(hour_found.group(1))
    if hour is None:
        return None
    minute = 0
    if hour_found.group(2):
        minute = 30
    elif hour_found.group(3):
        minute = 15
    elif hour_found.group(4):
        minute = 45
    elif hour_found.group(5):
        minute = chinese_number(hour_found.group(5)) or 0
    return _checked(_adjust(hour, period), minute)


def _adjust(hour: int, period: str | None) -> int:
    if period in _AFTERNOON and hour < 12:
        return hour + 12
    if period == "中午" and hour < 6:
        return hour + 12
    if period == "凌晨" and hour == 12:
        return 0
    if period is None and 1 <= hour <= _LAST_BARE_SMALL_HOUR:
        return hour + 12
    return hour


def _checked(hour: int, minute: int) -> time | None:
    if hour == 24 and minute == 0:
        return time(23, 59)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)
