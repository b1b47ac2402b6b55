"""The port every platform adapter implements, and the errors it reports on send."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.events import IncomingMessage, OutgoingMessage, Platform, PlatformEvent

EventSink = Callable[[IncomingMessage | PlatformEvent], Awaitable[None]]


class DeliveryError(Exception):
    """A send failed; `permanent` means retrying can never succeed (kicked, chat gone)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Adapter(Protocol):
    """A connected platform: `run` feeds the sink until cancelled, `send` delivers one message."""

    platform: Platform

    async def run(self, sink: EventSink) -> None:
        """Connect, then pass every incoming message or platform event to `sink`."""
        ...

    async def send(self, message: OutgoingMessage) -> None:
        """Deliver one outbox message, pacing as the platform requires; raise DeliveryError."""
        ...
