"""Read and cross-check the community tree, its groups and its people from the config root."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.domain.community import Group, Level, Node, Person, Role
from config.reader import Invalid, KeyPath, TableReader, show, to_enum

NODE_KEYS = ("id", "name")
STAIRWELL_KEYS = ("id", "compound", "name")
GROUP_KEYS = ("id", "name", "level", "node", "telegram_chat_id", "wechat_room_id", "tags")
PERSON_KEYS = (
    "id", "name", "roles", "node", "telegram_user_id", "wechat_id", "phone", "tags",
)  # fmt: skip
_PHONE_CHARS = frozenset("0123456789+- ()")
_MIN_PHONE_DIGITS = 5


@dataclass(frozen=True, slots=True)
class CommunityTree:
    """The community, its compounds and stairwells, its groups and its people."""

    community: Node
    compounds: tuple[Node, ...]
    stairwells: tuple[Node, ...]
    groups: tuple[Group, ...]
    people: tuple[Person, ...]
    phones: Mapping[str, str] = field(hash=False)


def read_tree(root: TableReader) -> CommunityTree:
    """Read [community], [[compounds]], [[stairwells]], [[groups]] and [[people]], cross-checked."""
    community, compounds, stairwells = _read_nodes(root)
    levels = {node.id: node.level for node in (community, *compounds, *stairwells)}
    groups = tuple(_group(table, levels) for table in root.tables("groups", GROUP_KEYS))
    _unique_ids([(("groups", index), group.id) for index, group in enumerate(groups)], "group")
    _unique_platform_ids("groups", "telegram_chat_id", [g.telegram_chat_id for g in groups])
    _unique_platform_ids("groups", "wechat_room_id", [g.wechat_room_id for g in groups])
    people_tables = root.tables("people", PERSON_KEYS)
    people = tuple(_person(table, levels) for table in people_tables)
    _unique_ids([(("people", index), person.id) for index, person in enumerate(people)], "person")
    _unique_platform_ids("people", "telegram_user_id", [p.telegram_user_id for p in people])
    _unique_platform_ids("people", "wechat_id", [p.wechat_id for p in people])
    phones = {
        person.id: phone
        for person, table in zip(people, people_tables, strict=True)
        if (phone := _phone(table)) is not None
    }
    return CommunityTree(community, compounds, stairwells, groups, people, MappingProxyType(phones))


def _read_nodes(root: TableReader) -> tuple[Node, tuple[Node, ...], tuple[Node, ...]]:
    """The community, compounds and stairwells; their ids share one namespace."""
    if "community" not in root.data:
        raise Invalid(("community",), "missing required table [community] (with id and name)")
    top = root.table("community", NODE_KEYS)
    community = Node(top.identifier("id"), top.text("name"), Level.COMMUNITY, None)
    compounds = tuple(
        Node(table.identifier("id"), table.text("name"), Level.COMPOUND, community.id)
        for table in root.tables("compounds", NODE_KEYS)
    )
    compound_ids = {compound.id for compound in compounds}
    stairwells = tuple(
        _stairwell(table, compound_ids) for table in root.tables("stairwells", STAIRWELL_KEYS)
    )
    _unique_ids(
        [(("community",), community.id)]
        + [(("compounds", index), node.id) for index, node in enumerate(compounds)]
        + [(("stairwells", index), node.id) for index, node in enumerate(stairwells)],
        "node",
    )
    return community, compounds, stairwells


def _stairwell(table: TableReader, compound_ids: set[str]) -> Node:
    node_id, name = table.identifier("id"), table.text("name")
    compound = table.text("compound")
    if compound not in compound_ids:
        raise Invalid(table.at("compound"), f"expected the id of a compound, got {show(compound)}")
    return Node(node_id, name, Level.STAIRWELL, compound)


def _node_ref(table: TableReader, levels: Mapping[str, Level]) -> str:
    node = table.text("node")
    if node not in levels:
        raise Invalid(
            table.at("node"),
            f"expected the id of a community, compound or stairwell, got {show(node)}",
        )
    return node


def _group(table: TableReader, levels: Mapping[str, Level]) -> Group:
    group_id, name = table.identifier("id"), table.text("name")
    level = table.choice("level", Level)
    node = _node_ref(table, levels)
    if levels[node] is not level:
        raise Invalid(
            table.at("level"),
            f"expected {show(levels[node].value)} (the level of node {show(node)}), "
            f"got {show(level.value)}",
        )
    chat_id = table.optional_integer("telegram_chat_id")
    return Group(
        id=group_id,
        name=name,
        level=level,
        node=node,
        telegram_chat_id=None if chat_id is None else str(chat_id),
        wechat_room_id=table.optional_text("wechat_room_id"),
        tags=table.text_list("tags"),
    )


def _person(table: TableReader, levels: Mapping[str, Level]) -> Person:
    person_id, name = table.identifier("id"), table.text("name")
    if "roles" not in table.data:
        raise Invalid(table.at("roles"), 'missing required key (expected roles, e.g. ["resident"])')
    raw_roles = table.array("roles")
    if not raw_roles:
        raise Invalid(table.at("roles"), 'expected a non-empty array of roles, e.g. ["resident"]')
    roles = tuple(
        to_enum(role, Role, table.at("roles", index)) for index, role in enumerate(raw_roles)
    )
    user_id = table.optional_integer("telegram_user_id")
    return Person(
        id=person_id,
        name=name,
        roles=tuple(dict.fromkeys(roles)),
        node=_node_ref(table, levels),
        telegram_user_id=None if user_id is None else str(user_id),
        wechat_id=table.optional_text("wechat_id"),
        tags=table.text_list("tags"),
    )


def _phone(table: TableReader) -> str | None:
    phone = table.optional_text("phone")
    digits = sum(char.isdigit() for char in phone or "")
    if phone is not None and (set(phone) - _PHONE_CHARS or digits < _MIN_PHONE_DIGITS):
        raise Invalid(
            table.at("phone"), f'expected a phone number such as "13812345678", got {show(phone)}'
        )
    return phone


def _unique_ids(entries: Sequence[tuple[KeyPath, str]], what: str) -> None:
    seen: dict[str, KeyPath] = {}
    for table, entry_id in entries:
        if entry_id in seen:
            first = _table_name(seen[entry_id])
            raise Invalid(
                (*table, "id"),
                f"expected a unique {what} id, got {show(entry_id)} (already used by {first})",
            )
        seen[entry_id] = table


def _unique_platform_ids(section: str, key: str, values: list[str | None]) -> None:
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        if value is None:
            continue
        if value in seen:
            # Telegram ids are integers in the TOML, so they are shown without quotes.
            shown = value if key.startswith("telegram") else show(value)
            raise Invalid(
                (section, index, key),
                f"expected a unique {key}, got {shown} (already used by {section}[{seen[value]}])",
            )
        seen[value] = index


def _table_name(table: KeyPath) -> str:
    if len(table) == 1:
        return f"[{table[0]}]"
    return f"{table[0]}[{table[1]}]"
