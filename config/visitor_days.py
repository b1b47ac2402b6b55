"""[visitor_days]: the 开门接访 days of each month, their reminders, holidays and duty roster."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.community import Level, Person
from config.reader import Invalid, TableReader, parse_date, show, to_enum

VISITOR_DAY_KEYS = (
    "days", "start", "end", "place", "remind_day_before", "remind_same_day", "levels",
    "holidays", "holiday_policy", "duty",
)  # fmt: skip
DUTY_KEYS = ("date", "person", "name")
_LAST_DAY_OF_MONTH = 31


class HolidayPolicy(StrEnum):
    """What happens to a visitor day that falls on a public holiday."""

    KEEP = "keep"
    NEXT_WORKDAY = "next_workday"


@dataclass(frozen=True, slots=True)
class DutyEntry:
    """Who receives visitors on one date: a configured person, or someone named in free text."""

    date: dt.date
    name: str
    person: str | None = None


@dataclass(frozen=True, slots=True)
class VisitorDaySettings:
    """Days of the month (empty: none), hours, place, reminder times and the groups reminded."""

    days: tuple[int, ...] = (1, 11, 21)
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(11, 30)
    place: str | None = None
    remind_day_before: dt.time = dt.time(18, 0)
    remind_same_day: dt.time = dt.time(8, 0)
    levels: tuple[Level, ...] = (Level.COMMUNITY, Level.COMPOUND, Level.STAIRWELL)
    holidays: tuple[dt.date, ...] = ()
    holiday_policy: HolidayPolicy = HolidayPolicy.KEEP
    duty: tuple[DutyEntry, ...] = ()

    def duty_on(self, day: dt.date) -> tuple[DutyEntry, ...]:
        """The configured duty roster for one date."""
        return tuple(entry for entry in self.duty if entry.date == day)


_DEFAULT = VisitorDaySettings()


def read_visitor_days(root: TableReader, people: Mapping[str, Person]) -> VisitorDaySettings:
    """[visitor_days] and its [[visitor_days.duty]] entries (people looked up by id)."""
    table = root.table("visitor_days", VISITOR_DAY_KEYS)
    start = table.clock("start", _DEFAULT.start.strftime("%H:%M"))
    end = table.clock("end", _DEFAULT.end.strftime("%H:%M"))
    if end <= start:
        raise Invalid(
            table.at("end"), f"expected a time after start ({start:%H:%M}), got {end:%H:%M}"
        )
    same_day = table.clock("remind_same_day", _DEFAULT.remind_same_day.strftime("%H:%M"))
    if same_day >= start:
        raise Invalid(
            table.at("remind_same_day"),
            f"expected a time before start ({start:%H:%M}), got {same_day:%H:%M}",
        )
    return VisitorDaySettings(
        days=_days(table),
        start=start,
        end=end,
        place=table.optional_text("place"),
        remind_day_before=table.clock(
            "remind_day_before", _DEFAULT.remind_day_before.strftime("%H:%M")
        ),
        remind_same_day=same_day,
        levels=_levels(table),
        holidays=tuple(
            parse_date(item, table.at("holidays", index))
            for index, item in enumerate(table.array("holidays"))
        ),
        holiday_policy=table.choice("holiday_policy", HolidayPolicy, _DEFAULT.holiday_policy),
        duty=tuple(_duty(entry, people) for entry in table.tables("duty", DUTY_KEYS)),
    )


def _days(table: TableReader) -> tuple[int, ...]:
    days: list[int] = []
    for index, item in enumerate(table.array("days", _DEFAULT.days)):
        key = table.at("days", index)
        if isinstance(item, bool) or not isinstance(item, int):
            raise Invalid(key, f"expected a day of the month (1 to 31), got {show(item)}")
        if not 1 <= item <= _LAST_DAY_OF_MONTH:
            raise Invalid(key, f"expected a day of the month (1 to 31), got {item}")
        if item in days:
            raise Invalid(key, f"expected each day once, got {item} twice")
        days.append(item)
    return tuple(sorted(days))


def _levels(table: TableReader) -> tuple[Level, ...]:
    items = table.array("levels", [level.value for level in _DEFAULT.levels])
    if not items:
        raise Invalid(table.at("levels"), "expected at least one level, got []")
    levels = [to_enum(item, Level, table.at("levels", i)) for i, item in enumerate(items)]
    return tuple(dict.fromkeys(levels))


def _duty(entry: TableReader, people: Mapping[str, Person]) -> DutyEntry:
    if "date" not in entry.data:
        raise Invalid(entry.at("date"), 'missing required key (expected a date "YYYY-MM-DD")')
    day = parse_date(entry.get("date"), entry.at("date"))
    person_id, name = entry.optional_text("person"), entry.optional_text("name")
    if (person_id is None) == (name is None):
        raise Invalid(
            entry.at("person"), "expected exactly one of person (an id) or name (free text)"
        )
    if person_id is None:
        return DutyEntry(date=day, name=str(name))
    person = people.get(person_id)
    if person is None:
        raise Invalid(entry.at("person"), f"expected the id of a person, got {show(person_id)}")
    return DutyEntry(date=day, name=person.name, person=person.id)
