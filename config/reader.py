"""Typed, strict reading of parsed TOML tables, and the one-line `ConfigError` it leads to.

Validation raises `Invalid` with a key path; `load_settings` adds the file and line.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Collection, Mapping, Sequence
from enum import StrEnum
from typing import TypeVar

KeyPath = tuple[str | int, ...]
EnumT = TypeVar("EnumT", bound=StrEnum)

# Env vars that hold secrets, and the TOML spellings people try for them, per table.
SECRET_ENV_VARS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE",
    "TELEGRAM_WEBHOOK_SECRET",
    "WECHATY_PUPPET_SERVICE_TOKEN",
    "WECHATY_PUPPET_SERVICE_ENDPOINT",
)
_SECRET_SPELLINGS: dict[str, dict[str, str]] = {
    "telegram": {
        "token": "TELEGRAM_BOT_TOKEN",
        "bot_token": "TELEGRAM_BOT_TOKEN",
        "api_base": "TELEGRAM_API_BASE",
        "base_url": "TELEGRAM_API_BASE",
        "secret": "TELEGRAM_WEBHOOK_SECRET",
        "secret_token": "TELEGRAM_WEBHOOK_SECRET",
        "webhook_secret": "TELEGRAM_WEBHOOK_SECRET",
    },
    "wechat": {
        "token": "WECHATY_PUPPET_SERVICE_TOKEN",
        "puppet_token": "WECHATY_PUPPET_SERVICE_TOKEN",
        "puppet_service_token": "WECHATY_PUPPET_SERVICE_TOKEN",
        "endpoint": "WECHATY_PUPPET_SERVICE_ENDPOINT",
        "puppet_service_endpoint": "WECHATY_PUPPET_SERVICE_ENDPOINT",
    },
}
_SECRET_WORDS = ("token", "secret", "password")
_HH_MM = re.compile(r"(\d{1,2}):(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ConfigError(Exception):
    """A config file that cannot be used; str() is one line: `file:line: key: problem`."""

    def __init__(self, file: str, line: int | None, key: str, problem: str) -> None:
        self.file, self.line, self.key, self.problem = file, line, key, problem
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


class Invalid(Exception):
    """A value that does not fit, found before the file and line are known."""

    def __init__(self, key: KeyPath, problem: str) -> None:
        super().__init__(f"{format_key(key)}: {problem}")
        self.key, self.problem = key, problem


def format_key(key: KeyPath) -> str:
    """Render ("groups", 2, "node") as `groups[2].node`."""
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def show(value: object) -> str:
    """A value as the operator wrote it in TOML (strings quoted, booleans lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def describe(value: object) -> str:
    """A value with its TOML type, for wrong-type messages."""
    kinds: list[tuple[type, str]] = [
        (bool, "a boolean"),
        (str, "a string"),
        (int, "an integer"),
        (float, "a float"),
        (dt.datetime, "a date-time"),
        (dt.date, "a date"),
        (dt.time, "a time"),
    ]
    for kind, name in kinds:
        if isinstance(value, kind):
            return f"{show(value)} ({name})"
    return show(value)


def secret_hint(table: str, name: str) -> str | None:
    """Where a secret that someone put into the TOML belongs instead, if `name` looks like one."""
    env_var = _SECRET_SPELLINGS.get(table, {}).get(name.lower())
    if env_var is None and name.upper() in SECRET_ENV_VARS:
        env_var = name.upper()
    if env_var is not None:
        return f"secrets come only from the environment: set {env_var} instead"
    if any(word in name.lower() for word in _SECRET_WORDS):
        return "secrets come only from the environment (see config/example.env)"
    return None


def parse_clock(value: object, key: KeyPath) -> dt.time:
    """A wall-clock time written "HH:MM" (or a TOML local time)."""
    if isinstance(value, dt.time):
        return value
    match = _HH_MM.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise Invalid(key, f'expected a time "HH:MM" (00:00 to 23:59), got {describe(value)}')
    return dt.time(int(match[1]), int(match[2]))


def parse_date(value: object, key: KeyPath) -> dt.date:
    """A calendar date written "YYYY-MM-DD" (or a TOML local date)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise Invalid(key, f'expected a date "YYYY-MM-DD", got {describe(value)}')


class TableReader:
    """One TOML table at `key`: rejects unknown names at once, then reads typed values."""

    def __init__(
        self,
        data: Mapping[str, object],
        key: KeyPath,
        allowed: Collection[str],
        *,
        what: str = "key",
    ) -> None:
        self.data, self.key = data, key
        for name in data:
            if name not in allowed:
                problem = f"unknown {what} {show(name)}"
                hint = secret_hint(str(key[-1]) if key else "", name)
                expected = f"expected one of: {', '.join(allowed)}" if allowed else ""
                raise Invalid((*key, name), f"{problem}; {hint or expected}")

    def at(self, *names: str | int) -> KeyPath:
        """The key path of `names` (a key, then any array indices) inside this table."""
        return (*self.key, *names)

    def get(self, name: str) -> object | None:
        """The raw value, or None when absent."""
        return self.data.get(name)

    def text(self, name: str, default: str | None = None) -> str:
        """A non-empty string; required when `default` is None."""
        value = self.data.get(name, default)
        if value is None:
            raise Invalid(self.at(name), "missing required key (expected a string)")
        if not isinstance(value, str) or not value.strip():
            raise Invalid(self.at(name), f"expected a non-empty string, got {describe(value)}")
        return value.strip()

    def optional_text(self, name: str) -> str | None:
        """A non-empty string, or None when absent."""
        return None if name not in self.data else self.text(name)

    def identifier(self, name: str) -> str:
        """A required id: non-empty, without spaces (people type it after /group and /bind)."""
        value = self.text(name)
        if any(char.isspace() for char in value):
            raise Invalid(self.at(name), f"expected an id without spaces, got {show(value)}")
        return value

    def integer(
        self,
        name: str,
        default: int,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        also: str | None = None,
    ) -> int:
        """An integer (booleans are not integers here) within the given bounds; `also` names
        a word the caller accepts instead, for the error message."""
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            expected = f'an integer or "{also}"' if also else "an integer"
            raise Invalid(self.at(name), f"expected {expected}, got {describe(value)}")
        _check_bounds(value, self.at(name), minimum, maximum)
        return value

    def optional_integer(self, name: str) -> int | None:
        """An integer, or None when absent."""
        return None if name not in self.data else self.integer(name, 0)

    def number(
        self,
        name: str,
        default: float,
        *,
        minimum: float,
        maximum: float | None = None,
        above_minimum: bool = False,
    ) -> float:
        """An integer or float; `above_minimum` makes the minimum exclusive."""
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(self.at(name), f"expected a number, got {describe(value)}")
        if above_minimum and value <= minimum:
            raise Invalid(self.at(name), f"expected a number above {minimum:g}, got {show(value)}")
        _check_bounds(value, self.at(name), minimum, maximum)
        return float(value)

    def clock(self, name: str, default: str) -> dt.time:
        """A wall-clock time "HH:MM"."""
        return parse_clock(self.data.get(name, default), self.at(name))

    def array(self, name: str, default: Sequence[object] = ()) -> list[object]:
        """An array of anything; the caller checks the items."""
        value = self.data.get(name, list(default))
        if not isinstance(value, list):
            raise Invalid(self.at(name), f"expected an array, got {describe(value)}")
        return value

    def text_list(self, name: str, default: Sequence[str] = ()) -> tuple[str, ...]:
        """An array of non-empty strings."""
        items = self.array(name, default)
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise Invalid(
                    self.at(name, index), f"expected a non-empty string, got {describe(item)}"
                )
        return tuple(str(item).strip() for item in items)

    def choice(self, name: str, kind: type[EnumT], default: EnumT | None = None) -> EnumT:
        """One value of the StrEnum `kind`."""
        value = self.data.get(name, default)
        if value is None:
            raise Invalid(self.at(name), f"missing required key (expected {_options(kind)})")
        return to_enum(value, kind, self.at(name))

    def table(self, name: str, allowed: Collection[str], *, what: str = "key") -> TableReader:
        """A sub-table (empty when absent)."""
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise Invalid(self.at(name), f"expected a table, got {describe(value)}")
        return TableReader(value, self.at(name), allowed, what=what)

    def tables(self, name: str, allowed: Collection[str]) -> list[TableReader]:
        """An array of tables (`[[name]]`), empty when absent."""
        items = self.array(name)
        readers = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise Invalid(
                    self.at(name, index),
                    f"expected a table ([[{name}]]), got {describe(item)}",
                )
            readers.append(TableReader(item, self.at(name, index), allowed))
        return readers


def to_enum(value: object, kind: type[EnumT], key: KeyPath) -> EnumT:
    """Convert `value` to a member of `kind`, or say which values are allowed."""
    if isinstance(value, str):
        for member in kind:
            if member.value == value:
                return member
    raise Invalid(key, f"expected {_options(kind)}, got {describe(value)}")


def _options(kind: type[StrEnum]) -> str:
    return "one of " + ", ".join(member.value for member in kind)


def _check_bounds(value: float, key: KeyPath, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise Invalid(key, f"expected at least {minimum:g}, got {show(value)}")
    if maximum is not None and value > maximum:
        raise Invalid(key, f"expected at most {maximum:g}, got {show(value)}")
