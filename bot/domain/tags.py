"""Tags on groups and people (老人, 出租户, 红/黄/绿 ...) and tag broadcasts (一键推送).

A tag comes from the config or from `/tag`; chat changes are stored as overrides (present or
removed) on top of the config, so `/untag` can also take back a tag the config set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.clock import Clock
from bot.domain.community import Directory, Group, Node, Person, Role
from bot.domain.reminders import QuietHours
from bot.domain.units import UnitOfWork
from bot.errors import InvalidInput, NotAllowed

CONFIRM_WITHIN = timedelta(minutes=10)
"""How long a broadcast preview waits for its confirmation."""
MAX_TAG_LENGTH = 20
TAG_MARKS = "#＃"


class TargetKind(StrEnum):
    """What a tag is on."""

    GROUP = "group"
    PERSON = "person"


@dataclass(frozen=True, slots=True)
class Target:
    """A group or a configured person that can carry tags."""

    kind: TargetKind
    id: str
    name: str
    node: str


@dataclass(frozen=True, slots=True)
class TagOverride:
    """One tag set (`present`) or taken back by command, on top of the config."""

    kind: TargetKind
    target_id: str
    tag: str
    present: bool
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class TagChange:
    """The outcome of `/tag` or `/untag`: the target's tags afterwards."""

    target: Target
    changed: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TagListing:
    """Every tag within a staff member's scope, with its groups and people."""

    scope: Node
    groups: Mapping[str, tuple[Group, ...]]
    people: Mapping[str, tuple[Person, ...]]


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Who a tag broadcast reaches, and when it goes out (None: at once)."""

    tags: tuple[str, ...]
    groups: tuple[Group, ...]
    people: tuple[Person, ...]
    held_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class BroadcastResult:
    """How many recipients got an outbox row (unreachable ones are bound nowhere)."""

    broadcast: Broadcast
    groups_reached: int
    people_reached: int


class TagRepository(Protocol):
    """Storage port for tag overrides (storage/tags.py)."""

    async def overrides(self) -> list[TagOverride]:
        """Every stored override."""
        ...

    async def put(self, override: TagOverride) -> None:
        """Store (replace) the override for its target and tag."""
        ...


class BroadcastSender(Protocol):
    """Puts one broadcast message per recipient into the outbox (bot/outbox.py Outbox)."""

    async def to_group(self, group: Group, text: str) -> bool:
        """Post in a group wherever it is bound; False when bound nowhere."""
        ...

    async def to_person(self, person: Person, text: str) -> bool:
        """Message someone privately; False when they cannot be reached."""
        ...


def clean_tags(words: Iterable[str]) -> tuple[str, ...]:
    """Tags without their # marks and blanks, each once, in the order given."""
    found: list[str] = []
    for word in words:
        tag = word.strip().lstrip(TAG_MARKS).strip()
        if tag and tag not in found:
            found.append(tag)
    return tuple(found)


class TagService:
    """Sets and reads tags, and sends tag broadcasts within the sender's scope."""

    def __init__(
        self,
        repository: TagRepository,
        sender: BroadcastSender,
        unit_of_work: UnitOfWork,
        directory: Directory,
        quiet_hours: QuietHours,
        clock: Clock,
    ) -> None:
        self._repository, self._sender, self._unit_of_work = repository, sender, unit_of_work
        self._directory, self._quiet, self._clock = directory, quiet_hours, clock

    def find_target(self, reference: str) -> Target:
        """A group by id or name, or a configured person by id or `@name`."""
        wanted = reference.strip().lstrip("@＠")
        groups = self._directory.groups()
        people = self._directory.people()
        by_id = [_group_target(g) for g in groups if g.id == wanted]
        by_id += [_person_target(p) for p in people if p.id == wanted]
        if by_id:
            return by_id[0]
        by_name = [_group_target(g) for g in groups if g.name == wanted]
        by_name += [_person_target(p) for p in people if p.name == wanted]
        if len(by_name) > 1:
            raise InvalidInput("tag.ambiguous_target", name=wanted)
        if not by_name:
            raise InvalidInput("tag.unknown_target", name=wanted)
        return by_name[0]

    def scope_of(self, person: Person) -> Node:
        """Where a staff member may tag and push: all, or their compound."""
        if person.has(Role.SECRETARY):
            return self._directory.community
        compound = self._directory.compound_of(person.node)
        if person.has(Role.COMPOUND_SECRETARY) and compound is not None:
            return compound
        raise NotAllowed("tag.not_allowed")

    async def tag(self, actor: Person, target: Target, tags: Sequence[str]) -> TagChange:
        """Add tags to a group or person."""
        return await self._change(actor, target, tags, present=True)

    async def untag(self, actor: Person, target: Target, tags: Sequence[str]) -> TagChange:
        """Take tags off a group or person (config tags too)."""
        return await self._change(actor, target, tags, present=False)

    async def _change(
        self, actor: Person, target: Target, tags: Sequence[str], *, present: bool
    ) -> TagChange:
        scope = self.scope_of(actor)
        if not self._directory.is_within(target.node, scope.id):
            raise NotAllowed("tag.outside_scope", name=target.name)
        cleaned = clean_tags(tags)
        if not cleaned or any(len(tag) > MAX_TAG_LENGTH for tag in cleaned):
            raise InvalidInput("tag.bad_tag")
        now = self._clock.now()
        async with self._unit_of_work.transaction():
            for tag in cleaned:
                override = TagOverride(target.kind, target.id, tag, present, actor.id, now)
                await self._repository.put(override)
            merged = _merged(await self._repository.overrides())
        return TagChange(target, cleaned, self._tags_of(target, merged))

    async def listing(self, actor: Person) -> TagListing:
        """Every tag on groups and people within the actor's scope."""
        scope = self.scope_of(actor)
        merged = _merged(await self._repository.overrides())
        groups: dict[str, list[Group]] = {}
        people: dict[str, list[Person]] = {}
        for group in self._groups_within(scope):
            for tag in self._tags_of(_group_target(group), merged):
                groups.setdefault(tag, []).append(group)
        for person in self._people_within(scope):
            for tag in self._tags_of(_person_target(person), merged):
                people.setdefault(tag, []).append(person)
        return TagListing(
            scope=scope,
            groups={tag: tuple(found) for tag, found in sorted(groups.items())},
            people={tag: tuple(found) for tag, found in sorted(people.items())},
        )

    async def preview(self, actor: Person, tags: Sequence[str]) -> Broadcast:
        """The groups and people a broadcast to any of `tags` would reach (nothing is sent)."""
        scope = self.scope_of(actor)
        cleaned = clean_tags(tags)
        if not cleaned:
            raise InvalidInput("tag.bad_tag")
        merged = _merged(await self._repository.overrides())
        wanted = set(cleaned)
        groups = tuple(
            g
            for g in self._groups_within(scope)
            if wanted & set(self._tags_of(_group_target(g), merged))
        )
        people = tuple(
            p
            for p in self._people_within(scope)
            if wanted & set(self._tags_of(_person_target(p), merged))
        )
        if not groups and not people:
            raise InvalidInput("tag.no_recipients", tags=" ".join(f"#{t}" for t in cleaned))
        now = self._clock.now()
        release = self._quiet.release_at(now)
        return Broadcast(cleaned, groups, people, release if release > now else None)

    async def push(self, actor: Person, tags: Sequence[str], text: str) -> BroadcastResult:
        """Send `text` to every recipient of the preview, one outbox row each (the adapters
        pace them per platform); the permission and recipients are checked again."""
        broadcast = await self.preview(actor, tags)
        groups_reached = people_reached = 0
        async with self._unit_of_work.transaction():
            for group in broadcast.groups:
                groups_reached += await self._sender.to_group(group, text)
            for person in broadcast.people:
                people_reached += await self._sender.to_person(person, text)
        return BroadcastResult(broadcast, groups_reached, people_reached)

    def _groups_within(self, scope: Node) -> list[Group]:
        return [g for g in self._directory.groups() if self._directory.is_within(g.node, scope.id)]

    def _people_within(self, scope: Node) -> list[Person]:
        return [p for p in self._directory.people() if self._directory.is_within(p.node, scope.id)]

    def _tags_of(
        self, target: Target, merged: Mapping[tuple[TargetKind, str], Mapping[str, bool]]
    ) -> tuple[str, ...]:
        if target.kind is TargetKind.GROUP:
            group = self._directory.group(target.id)
            configured = group.tags if group is not None else ()
        else:
            person = self._directory.person(target.id)
            configured = person.tags if person is not None else ()
        overrides = merged.get((target.kind, target.id), {})
        kept = [tag for tag in configured if overrides.get(tag, True)]
        added = [tag for tag, present in overrides.items() if present and tag not in kept]
        return (*kept, *added)


def _merged(
    overrides: Iterable[TagOverride],
) -> dict[tuple[TargetKind, str], dict[str, bool]]:
    """Target -> tag -> present, in the order tags were first set."""
    merged: dict[tuple[TargetKind, str], dict[str, bool]] = {}
    for override in sorted(overrides, key=lambda o: o.changed_at):
        merged.setdefault((override.kind, override.target_id), {})[override.tag] = override.present
    return merged


def _group_target(group: Group) -> Target:
    return Target(TargetKind.GROUP, group.id, group.name, group.node)


def _person_target(person: Person) -> Target:
    return Target(TargetKind.PERSON, person.id, person.name, person.node)
