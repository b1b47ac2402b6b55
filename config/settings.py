"""The validated settings Linli runs on, loaded once from one TOML file by `load_settings`.

Any problem raises `ConfigError`, a one-line message: `file:line: key: expected ..., got ...`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.community import Group, Node, Person, Role
from config.lines import find_line
from config.platforms import (
    TelegramSettings,
    WechatSettings,
    read_telegram,
    read_wechat,
)
from config.reader import ConfigError, Invalid, TableReader, format_key, show
from config.sections import (
    ClassifierSettings,
    DeadlineSettings,
    DigestSettings,
    DuplicateSettings,
    FollowupSettings,
    QuietHours,
    RoutingSettings,
    StorageSettings,
    read_classifier,
    read_deadlines,
    read_digests,
    read_duplicates,
    read_followup,
    read_quiet_hours,
    read_routing,
    read_storage,
)
from config.tree import read_tree
from config.visitor_days import VisitorDaySettings, read_visitor_days

DEFAULT_TIMEZONE = "Asia/Shanghai"
ROOT_KEYS = (
    "timezone", "community", "compounds", "stairwells", "groups", "people", "storage",
    "classifier", "routing", "deadlines", "followup", "duplicates", "visitor_days", "digests",
    "quiet_hours", "wechat", "telegram",
)  # fmt: skip
_SYNTAX_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything in the config file, validated; sections absent from the file hold defaults."""

    config_path: Path
    timezone: ZoneInfo
    community: Node
    compounds: tuple[Node, ...] = ()
    stairwells: tuple[Node, ...] = ()
    groups: tuple[Group, ...] = ()
    people: tuple[Person, ...] = ()
    phones: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    storage: StorageSettings = field(default_factory=StorageSettings)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    routing: RoutingSettings = field(default_factory=RoutingSettings)
    deadlines: DeadlineSettings = field(default_factory=DeadlineSettings)
    followup: FollowupSettings = field(default_factory=FollowupSettings)
    duplicates: DuplicateSettings = field(default_factory=DuplicateSettings)
    visitor_days: VisitorDaySettings = field(default_factory=VisitorDaySettings)
    digests: DigestSettings = field(default_factory=DigestSettings)
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    wechat: WechatSettings = field(default_factory=WechatSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)

    @property
    def timezone_name(self) -> str:
        """The IANA name of the configured time zone, e.g. "Asia/Shanghai"."""
        return self.timezone.key

    def nodes(self) -> tuple[Node, ...]:
        """The community, then its compounds, then its stairwells (parents before children)."""
        return (self.community, *self.compounds, *self.stairwells)

    def node(self, node_id: str) -> Node:
        """The node with this id; KeyError when there is none."""
        return _by_id(self.nodes(), node_id, "node")

    def group(self, group_id: str) -> Group:
        """The group with this id; KeyError when there is none."""
        return _by_id(self.groups, group_id, "group")

    def person(self, person_id: str) -> Person:
        """The configured person with this id; KeyError when there is none."""
        return _by_id(self.people, person_id, "person")

    def ancestry(self, node_id: str) -> tuple[Node, ...]:
        """The node, its parent, and so on up to the community (the escalation path)."""
        chain = [self.node(node_id)]
        while (parent := chain[-1].parent) is not None:
            chain.append(self.node(parent))
        return tuple(chain)

    def people_at(self, node_id: str, *roles: Role) -> tuple[Person, ...]:
        """Configured people of exactly this node holding any of `roles` (all when none given)."""
        return tuple(
            person
            for person in self.people
            if person.node == node_id and (not roles or person.has(*roles))
        )

    def group_for_telegram_chat(self, chat_id: str) -> Group | None:
        """The group bound to this Telegram chat id, if any."""
        return next((g for g in self.groups if g.telegram_chat_id == chat_id), None)

    def group_for_wechat_room(self, room_id: str) -> Group | None:
        """The group bound to this WeChat room id, if any."""
        return next((g for g in self.groups if g.wechat_room_id == room_id), None)

    def person_for_telegram_user(self, user_id: str) -> Person | None:
        """The configured person with this Telegram user id, if any."""
        return next((p for p in self.people if p.telegram_user_id == user_id), None)

    def person_for_wechat_id(self, wechat_id: str) -> Person | None:
        """The configured person with this WeChat id, if any."""
        return next((p for p in self.people if p.wechat_id == wechat_id), None)

    def phone_of(self, person_id: str) -> str | None:
        """The configured phone number of a person (staff only see it; mask it elsewhere)."""
        return self.phones.get(person_id)


def load_settings(path: Path) -> Settings:
    """Read and completely validate one TOML config file; raise ConfigError on the first problem."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(
            file, None, "", f"cannot read the config file: {error.strerror}"
        ) from None
    try:
        # utf-8-sig: Windows editors like to start the file with a byte-order mark.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(file, line, "", "expected UTF-8 text, got other bytes") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, problem = _syntax_error(str(error), text)
        raise ConfigError(file, line, "", f"invalid TOML: {problem}") from None
    try:
        return _build(data, path)
    except Invalid as error:
        line = find_line(text, error.key) or 1
        raise ConfigError(file, line, format_key(error.key), error.problem) from None


def _build(data: dict[str, object], path: Path) -> Settings:
    root = TableReader(data, (), ROOT_KEYS)
    timezone = _timezone(root.text("timezone", DEFAULT_TIMEZONE))
    tree = read_tree(root)
    return Settings(
        config_path=path,
        timezone=timezone,
        community=tree.community,
        compounds=tree.compounds,
        stairwells=tree.stairwells,
        groups=tree.groups,
        people=tree.people,
        phones=tree.phones,
        storage=read_storage(root),
        classifier=read_classifier(root),
        routing=read_routing(root),
        deadlines=read_deadlines(root),
        followup=read_followup(root),
        duplicates=read_duplicates(root),
        visitor_days=read_visitor_days(root, {person.id: person for person in tree.people}),
        digests=read_digests(root),
        quiet_hours=read_quiet_hours(root),
        wechat=read_wechat(root),
        telegram=read_telegram(root),
    )


def _timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise Invalid(
        ("timezone",), f'expected an IANA time zone such as "Asia/Shanghai", got {show(name)}'
    )


def _syntax_error(message: str, text: str) -> tuple[int, str]:
    """Line and problem from a tomllib message such as "... (at line 3, column 5)"."""
    match = _SYNTAX_POSITION.search(message)
    if match is not None:
        problem = message[: match.start()]
        return int(match[1]), f"{problem} (column {match[2]})"
    if message.endswith("(at end of document)"):
        return max(1, len(text.splitlines())), message.removesuffix(" (at end of document)")
    return 1, message


ItemT = TypeVar("ItemT", Node, Group, Person)


def _by_id(items: tuple[ItemT, ...], item_id: str, what: str) -> ItemT:
    for item in items:
        if item.id == item_id:
            return item
    raise KeyError(f"no {what} with id {item_id!r} in the config")
