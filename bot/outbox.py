"""The persisted outbox: everything Linli says is stored first, then delivered by platform."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.adapters.base import Adapter, DeliveryError
from bot.clock import Clock
from bot.domain.community import Directory, Group, Person
from bot.domain.reminders import QuietHours
from bot.events import Button, ChatRef, OutgoingMessage, Platform

logger = logging.getLogger(__name__)

# A transient failure is retried after RETRY_AFTER; storage gives up after MAX_ATTEMPTS tries.
MAX_ATTEMPTS = 8
RETRY_AFTER = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One message to store for delivery."""

    chat: ChatRef
    text: str
    group_id: str | None = None
    person_id: str | None = None
    reply_to_id: str | None = None
    urgent: bool = False
    image: str | None = None
    buttons: tuple[Button, ...] = ()
    # In a group, the platform id of whom the reply answers (WeChat @mentions them).
    reply_to_user_id: str | None = None


class OutboxRepository(Protocol):
    """Storage port for the outbox (storage/outbox.py)."""

    async def add(self, entry: OutboxEntry, created_at: datetime, not_before_at: datetime) -> None:
        """Store one message for delivery (with the caller's transaction, if any)."""
        ...

    async def pending(self, platform: Platform, now: datetime, limit: int) -> list[OutgoingMessage]:
        """Undelivered messages for a platform that are due, urgent first, then oldest."""
        ...

    async def mark_sent(self, outbox_id: int, at: datetime) -> None:
        """Record a delivery."""
        ...

    async def mark_failed(
        self,
        outbox_id: int,
        at: datetime,
        error: str,
        *,
        retry_at: datetime | None,
        parts_sent: int = 0,
    ) -> None:
        """Record a failed attempt (and how many parts did go out): retry at `retry_at`, or
        give up when it is None."""
        ...

    async def next_due_at(self, platform: Platform) -> datetime | None:
        """When the next undelivered message for the platform becomes due."""
        ...


class Outbox:
    """Writes messages into the outbox (inside the caller's transaction) and wakes senders."""

    def __init__(
        self,
        repository: OutboxRepository,
        directory: Directory,
        clock: Clock,
        platforms: Sequence[Platform],
        after_commit: Callable[[Callable[[], None]], None] | None = None,
        quiet_hours: QuietHours | None = None,
    ) -> None:
        self._repository, self._directory, self._clock = repository, directory, clock
        # Wake the dispatcher only once the row is committed, or it finds nothing and sleeps.
        self._after_commit = after_commit or (lambda callback: callback())
        self._quiet_hours = quiet_hours
        self._platforms = tuple(platforms)
        self._wakes = {platform: asyncio.Event() for platform in Platform}

    async def put(self, entry: OutboxEntry, not_before_at: datetime | None = None) -> None:
        """Store one message; it is delivered after the surrounding transaction commits."""
        # The one choke point every outbound message passes: phone, ID and plate numbers are
        # masked here, whatever feature wrote the text (bot/privacy.py).
        from dataclasses import replace

        from bot.privacy import mask

        entry = replace(
            entry,
            text=mask(entry.text),
            buttons=tuple(Button(mask(b.label), b.payload) for b in entry.buttons),
        )
        now = self._clock.now()
        due = not_before_at or now
        if self._quiet_hours is not None and not entry.urgent and entry.reply_to_id is None:
            # A push (not an answer to someone who just wrote) waits out the quiet hours.
            due = self._quiet_hours.release_at(due)
        await self._repository.add(entry, now, due)
        self._after_commit(self._wakes[entry.chat.platform].set)

    def waker(self, platform: Platform) -> asyncio.Event:
        """Set whenever a message for `platform` is stored."""
        return self._wakes[platform]

    async def to_person(
        self,
        person: Person,
        text: str,
        *,
        urgent: bool = False,
        prefer: Platform | None = None,
        avoid: Platform | None = None,
        buttons: tuple[Button, ...] = (),
        image: str | None = None,
        not_before_at: datetime | None = None,
    ) -> bool:
        """Message someone privately on the platform they can be reached on; False if none."""
        chat = self._address(person, prefer, avoid)
        if chat is None:
            logger.warning("person %s cannot be reached on any connected platform", person.id)
            return False
        entry = OutboxEntry(
            chat=chat, text=text, person_id=person.id, urgent=urgent, buttons=buttons, image=image
        )
        await self.put(entry, not_before_at)
        return True

    async def to_group(
        self,
        group: Group,
        text: str,
        *,
        urgent: bool = False,
        buttons: tuple[Button, ...] = (),
        not_before_at: datetime | None = None,
    ) -> bool:
        """Post in a group on every platform it is bound to; False if it is bound nowhere."""
        posted = False
        for platform in self._platforms:
            chat = self._directory.chat_of_group(group, platform)
            if chat is not None:
                entry = OutboxEntry(
                    chat=chat, text=text, group_id=group.id, urgent=urgent, buttons=buttons
                )
                await self.put(entry, not_before_at)
                posted = True
        if not posted:
            logger.warning("group %s is not bound on any connected platform", group.id)
        return posted

    def _address(
        self, person: Person, prefer: Platform | None, avoid: Platform | None
    ) -> ChatRef | None:
        ordered = [prefer] if prefer in self._platforms else []
        ordered += [p for p in self._platforms if p is not prefer]
        for platform in ordered:
            if platform is avoid:
                continue
            chat = self._directory.address_of(person, platform)
            if chat is not None and chat.platform is platform:
                return chat
        return None


class Dispatcher:
    """Delivers due outbox messages through the adapter of their platform, one loop each."""

    def __init__(self, repository: OutboxRepository, outbox: Outbox, clock: Clock) -> None:
        self._repository, self._outbox, self._clock = repository, outbox, clock
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish the message being sent, then return from `run` (no half-recorded sends)."""
        self._stopping.set()
        for platform in Platform:
            self._outbox.waker(platform).set()

    async def deliver_due(
        self, adapter: Adapter, limit: int = 100, *, until_stopped: bool = False
    ) -> int:
        """Send every message due now on the adapter's platform; returns how many were tried."""
        tried = 0
        while True:
            batch = await self._repository.pending(adapter.platform, self._clock.now(), limit)
            if not batch:
                return tried
            for message in batch:
                if until_stopped and self._stopping.is_set():
                    return tried
                await self._deliver(adapter, message)
                tried += 1

    async def _deliver(self, adapter: Adapter, message: OutgoingMessage) -> None:
        try:
            await adapter.send(message)
        except DeliveryError as error:
            now = self._clock.now()
            retry_at = None if error.permanent else now + RETRY_AFTER
            logger.warning("delivery of outbox %s failed: %s", message.outbox_id, error)
            await self._repository.mark_failed(
                message.outbox_id, now, str(error), retry_at=retry_at, parts_sent=error.parts_sent
            )
            return
        await self._repository.mark_sent(message.outbox_id, self._clock.now())

    async def run(self, adapters: Mapping[Platform, Adapter], idle_seconds: float = 5.0) -> None:
        """Deliver forever: wake on new messages, or when the next deferred one is due."""
        async with asyncio.TaskGroup() as group:
            for adapter in adapters.values():
                group.create_task(self._run_one(adapter, idle_seconds))

    async def _run_one(self, adapter: Adapter, idle_seconds: float) -> None:
        wake = self._outbox.waker(adapter.platform)
        while not self._stopping.is_set():
            wake.clear()
            await self.deliver_due(adapter, until_stopped=True)
            due = await self._repository.next_due_at(adapter.platform)
            wait = idle_seconds
            if due is not None:
                wait = min(idle_seconds, max(0.0, (due - self._clock.now()).total_seconds()))
            try:
                await asyncio.wait_for(wake.wait(), timeout=wait)
            except TimeoutError:
                continue
