"""Reactions to platform events: chat migrations, removals, new members, lost sessions."""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.domain.bindings import BindingService
from bot.domain.community import Directory, Role
from bot.events import BotRemoved, ChatMigrated, MemberJoined, PlatformDown, PlatformEvent
from bot.outbox import Outbox, OutboxEntry
from bot.ports import Inbox, Transactions
from handlers.texts import bindings as texts

logger = logging.getLogger(__name__)


class PlatformEventHandler:
    """Keeps bindings right and tells people what they need to know."""

    def __init__(
        self,
        bindings: BindingService,
        directory: Directory,
        outbox: Outbox,
        database: Transactions,
        inbox: Inbox,
        clock: Clock,
    ) -> None:
        self._bindings, self._directory, self._outbox = bindings, directory, outbox
        self._db, self._inbox, self._clock = database, inbox, clock

    async def handle(self, event: PlatformEvent) -> None:
        """Apply one platform event inside one transaction."""
        async with self._db.transaction():
            if isinstance(event, MemberJoined) and not await self._inbox.record(
                event.chat.platform, event.chat.chat_id, f"join:{event.event_id}", self._clock.now()
            ):
                return  # a replayed room-join: the welcome was already sent
            match event:
                case ChatMigrated(platform=platform, old_chat_id=old, new_chat_id=new):
                    logger.info("chat %s on %s migrated to %s", old, platform, new)
                    await self._bindings.migrate(platform, old, new)
                case BotRemoved(chat=chat):
                    logger.warning("removed from chat %s on %s", chat.chat_id, chat.platform)
                    await self._bindings.removed(chat)
                case MemberJoined(chat=chat):
                    group = self._directory.group_for_chat(chat)
                    if group is not None:
                        await self._outbox.put(
                            OutboxEntry(
                                chat=chat, text=texts.welcome(group.name), group_id=group.id
                            )
                        )
                case PlatformDown(platform=platform, reason=reason):
                    logger.error("platform %s is down: %s", platform, reason)
                    name = texts.PLATFORM_NAMES.get(platform.value, platform.value)
                    for person in self._directory.people():
                        if person.has(Role.SECRETARY):
                            await self._outbox.to_person(
                                person, texts.platform_down(name), urgent=True, avoid=platform
                            )
