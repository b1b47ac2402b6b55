"""Binding platform chats to configured groups: `/bind`, supergroup migrations, removals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Protocol

from bot.clock import Clock
from bot.domain.community import Directory, Group, Person, Role
from bot.errors import InvalidInput, NotAllowed
from bot.events import ChatRef, Platform


class BindingRepository(Protocol):
    """Storage port (storage/bindings.py)."""

    async def bind(
        self, platform: Platform, chat_id: str, group_id: str, by: str, at: datetime
    ) -> None:
        """Bind a chat to a group."""
        ...

    async def deactivate(self, platform: Platform, chat_id: str, at: datetime) -> None:
        """Mark a chat as one the bot may no longer post in."""
        ...

    async def all(self) -> list[tuple[Platform, str, str, bool]]:
        """Every stored binding."""
        ...


class BindingService:
    """Keeps the directory's chat bindings and the stored ones in step."""

    def __init__(
        self,
        bindings: BindingRepository,
        directory: Directory,
        clock: Clock,
        after_commit: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self._bindings, self._directory, self._clock = bindings, directory, clock
        # The directory follows the stored bindings only once they are committed: a batch
        # that is rolled back (and redone) must not leave it changed.
        self._after_commit = after_commit or (lambda change: change())

    async def load(self) -> None:
        """Apply the stored bindings at start-up (the database wins over the config)."""
        for platform, chat_id, group_id, active in await self._bindings.all():
            if active and self._directory.group(group_id) is not None:
                self._directory.bind(platform, chat_id, group_id)
            elif not active:
                self._directory.unbind(platform, chat_id)

    async def bind(self, chat: ChatRef, group_id: str, actor: Person) -> Group:
        """A secretary binds this chat to a configured group."""
        group = self._directory.group(group_id.strip())
        if group is None:
            raise InvalidInput("binding.unknown_group", group_id=group_id)
        current = self._directory.group_for_chat(chat)
        if not self.may_bind(actor, group) or (
            current is not None and not self.may_bind(actor, current)
        ):
            raise NotAllowed("binding.not_allowed")
        if not chat.is_group:
            raise InvalidInput("binding.not_in_group")
        await self._bindings.bind(
            chat.platform, chat.chat_id, group.id, actor.id, self._clock.now()
        )
        self._after_commit(partial(self._directory.bind, chat.platform, chat.chat_id, group.id))
        return group

    def may_bind(self, actor: Person, group: Group) -> bool:
        """The secretary binds any group; a compound secretary the groups of their compound."""
        if actor.has(Role.SECRETARY):
            return True
        if not actor.has(Role.COMPOUND_SECRETARY):
            return False
        compound = self._directory.compound_of(actor.node)
        return compound is not None and self._directory.is_within(group.node, compound.id)

    async def migrate(self, platform: Platform, old_chat_id: str, new_chat_id: str) -> None:
        """A Telegram group became a supergroup: the binding follows in one transaction."""
        group = self._directory.group_for_chat(ChatRef(platform, old_chat_id))
        now = self._clock.now()
        await self._bindings.deactivate(platform, old_chat_id, now)
        self._after_commit(partial(self._directory.unbind, platform, old_chat_id))
        if group is not None:
            await self._bindings.bind(platform, new_chat_id, group.id, "migration", now)
            self._after_commit(partial(self._directory.bind, platform, new_chat_id, group.id))

    async def removed(self, chat: ChatRef) -> None:
        """The bot was removed from a chat: nothing more is sent there."""
        await self._bindings.deactivate(chat.platform, chat.chat_id, self._clock.now())
        self._after_commit(partial(self._directory.unbind, chat.platform, chat.chat_id))
