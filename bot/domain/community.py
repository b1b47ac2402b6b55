"""The community tree (community → compounds → stairwells), its groups and its people."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.events import ChatRef, Platform, UserRef


class Level(StrEnum):
    """Level of a node in the community tree, and of the group that serves it."""

    COMMUNITY = "community"
    COMPOUND = "compound"
    STAIRWELL = "stairwell"


class Role(StrEnum):
    """What a person does in the community; one person may hold several roles."""

    SECRETARY = "secretary"
    COMPOUND_SECRETARY = "compound_secretary"
    BUILDING_LEADER = "building_leader"
    GRID_WORKER = "grid_worker"
    PROPERTY = "property"
    REPORTER = "reporter"
    RESIDENT = "resident"


@dataclass(frozen=True, slots=True)
class Node:
    """One node of the tree; `parent` is None only for the community."""

    id: str
    name: str
    level: Level
    parent: str | None


@dataclass(frozen=True, slots=True)
class Group:
    """One group chat, serving one node; platform ids are optional."""

    id: str
    name: str
    level: Level
    node: str
    telegram_chat_id: str | None = None
    wechat_room_id: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Person:
    """Someone Linli knows: staff from the config, or a resident met in a group."""

    id: str
    name: str
    roles: tuple[Role, ...]
    node: str
    telegram_user_id: str | None = None
    wechat_id: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def is_staff(self) -> bool:
        """True for anyone with a role other than resident or reporter."""
        return any(role not in (Role.RESIDENT, Role.REPORTER) for role in self.roles)

    def has(self, *roles: Role) -> bool:
        """True when the person holds any of `roles`."""
        return any(role in self.roles for role in roles)


class Directory:
    """Looks up nodes, groups and people; unknown users become residents of their group's node."""

    def __init__(
        self, nodes: Iterable[Node], groups: Iterable[Group], people: Iterable[Person]
    ) -> None:
        self._nodes = {node.id: node for node in nodes}
        self._groups = {group.id: group for group in groups}
        self._people = {person.id: person for person in people}
        self._by_platform_user: dict[tuple[Platform, str], Person] = {}
        self._by_platform_chat: dict[tuple[Platform, str], Group] = {}
        for person in self._people.values():
            if person.telegram_user_id:
                self._by_platform_user[(Platform.TELEGRAM, person.telegram_user_id)] = person
            if person.wechat_id:
                self._by_platform_user[(Platform.WECHAT, person.wechat_id)] = person
        for group in self._groups.values():
            if group.telegram_chat_id:
                self._by_platform_chat[(Platform.TELEGRAM, group.telegram_chat_id)] = group
            if group.wechat_room_id:
                self._by_platform_chat[(Platform.WECHAT, group.wechat_room_id)] = group
        self._unbound: set[tuple[Platform, str]] = set()
        self.community = next(n for n in self._nodes.values() if n.level is Level.COMMUNITY)

    # -- nodes ------------------------------------------------------------------------------
    def node(self, node_id: str) -> Node:
        """The node with this id (config guarantees every reference exists)."""
        return self._nodes[node_id]

    def node_ids(self) -> list[str]:
        """Every node id of the community."""
        return list(self._nodes)

    def has_node(self, node_id: str) -> bool:
        """True when `node_id` names a node of this community."""
        return node_id in self._nodes

    def lineage(self, node_id: str) -> list[Node]:
        """The node itself, then its parent, up to the community."""
        chain: list[Node] = []
        current: str | None = node_id
        while current is not None:
            node = self._nodes[current]
            chain.append(node)
            current = node.parent
        return chain

    def compound_of(self, node_id: str) -> Node | None:
        """The compound that contains (or is) this node; None for the community."""
        return next((n for n in self.lineage(node_id) if n.level is Level.COMPOUND), None)

    def is_within(self, node_id: str, ancestor_id: str) -> bool:
        """True when `node_id` is `ancestor_id` or lies below it."""
        return any(node.id == ancestor_id for node in self.lineage(node_id))

    # -- groups -----------------------------------------------------------------------------
    def group(self, group_id: str) -> Group | None:
        """The configured group with this id."""
        return self._groups.get(group_id)

    def groups(self) -> list[Group]:
        """Every configured group."""
        return list(self._groups.values())

    def group_for_chat(self, chat: ChatRef) -> Group | None:
        """The group a platform chat is bound to (console chats use the group id itself)."""
        if not chat.is_group:
            return None
        if chat.platform is Platform.CONSOLE:
            return self._groups.get(chat.chat_id)
        if (chat.platform, chat.chat_id) in self._unbound:
            return None
        return self._by_platform_chat.get((chat.platform, chat.chat_id))

    def bind(self, platform: Platform, chat_id: str, group_id: str) -> None:
        """Bind a platform chat to a configured group (from `/bind` or a stored binding).

        A group has one chat per platform: binding it elsewhere releases the old chat.
        """
        for key, bound in list(self._by_platform_chat.items()):
            if key[0] is platform and bound.id == group_id and key[1] != chat_id:
                del self._by_platform_chat[key]
        self._unbound.discard((platform, chat_id))
        self._by_platform_chat[(platform, chat_id)] = self._groups[group_id]

    def unbind(self, platform: Platform, chat_id: str) -> None:
        """Forget a chat's binding (the bot was removed, or the chat id moved)."""
        self._by_platform_chat.pop((platform, chat_id), None)
        self._unbound.add((platform, chat_id))

    def chat_of_group(self, group: Group, platform: Platform) -> ChatRef | None:
        """Where to post in `group` on `platform`, if it is bound there."""
        if platform is Platform.CONSOLE:
            return ChatRef(Platform.CONSOLE, group.id)
        for (bound_platform, chat_id), bound in self._by_platform_chat.items():
            if bound_platform is platform and bound.id == group.id:
                return ChatRef(platform, chat_id)
        return None

    # -- people -----------------------------------------------------------------------------
    def person(self, person_id: str) -> Person | None:
        """A configured person by id."""
        return self._people.get(person_id)

    def people(self) -> list[Person]:
        """Every configured person."""
        return list(self._people.values())

    def person_for_user(self, user: UserRef, group: Group | None) -> Person:
        """Who sent a message: a configured person, else a resident of the group's node."""
        if user.platform is Platform.CONSOLE:
            known = self._people.get(user.user_id)
        else:
            known = self._by_platform_user.get((user.platform, user.user_id))
        if known is not None:
            return known
        node = group.node if group is not None else self.community.id
        if user.platform is Platform.CONSOLE:
            return Person(id=user.user_id, name=user.name, roles=(Role.RESIDENT,), node=node)
        on_telegram = user.platform is Platform.TELEGRAM
        return Person(
            id=f"{user.platform.value}:{user.user_id}",
            name=user.name,
            roles=(Role.RESIDENT,),
            node=node,
            telegram_user_id=user.user_id if on_telegram else None,
            wechat_id=None if on_telegram else user.user_id,
        )

    def nearest_with_role(self, role: Role, node_id: str) -> list[Person]:
        """People holding `role` at the node, else at the nearest ancestor that has any."""
        for node in self.lineage(node_id):
            found = [p for p in self._people.values() if role in p.roles and p.node == node.id]
            if found:
                return found
        return []

    def with_role_in_compound(self, role: Role, node_id: str) -> list[Person]:
        """People holding `role` anywhere within the compound of `node_id`."""
        compound = self.compound_of(node_id)
        scope = compound.id if compound is not None else self.community.id
        return [
            p for p in self._people.values() if role in p.roles and self.is_within(p.node, scope)
        ]

    def address_of(self, person: Person, prefer: Platform) -> ChatRef | None:
        """Where to reach `person` privately: `prefer` if possible, else any platform they use."""
        if prefer is Platform.CONSOLE:
            return ChatRef(Platform.CONSOLE, person.id, is_group=False)
        candidates = {
            Platform.TELEGRAM: person.telegram_user_id,
            Platform.WECHAT: person.wechat_id,
        }
        ordered = [prefer, *(p for p in candidates if p is not prefer)]
        for platform in ordered:
            user_id = candidates.get(platform)
            if user_id:
                return ChatRef(platform, user_id, is_group=False)
        return None
