"""Ports the pipeline and other runtime parts need from storage: the unit of work and inbox."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.units import UnitOfWork
from bot.events import Platform


class Transactions(UnitOfWork, Protocol):
    """The unit of work, plus `savepoint()` around a handler that may fail on its own."""

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A nested transaction, rolled back alone if its block fails."""
        ...


# Message ids Linli records for itself in the inbox ("already said" markers, kept forever):
# no platform message id starts with it.
OWN_KEY_PREFIX = "linli:"


@dataclass(frozen=True, slots=True)
class InboxKey:
    """What makes a message unique: its platform, chat and id."""

    platform: Platform
    chat_id: str
    message_id: str


class Inbox(Protocol):
    """The durable dedupe record."""

    async def record_many(self, keys: Sequence[InboxKey], at: datetime) -> list[bool]:
        """Store many keys at once; True for each key that is new."""
        ...

    async def record(self, platform: Platform, chat_id: str, message_id: str, at: datetime) -> bool:
        """Store the key; False when it was already there."""
        ...
