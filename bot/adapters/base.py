"""The port every platform adapter implements, and the errors it reports on send."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.events import IncomingMessage, OutgoingMessage, Platform, PlatformEvent

# Takes one event; returns the answer to show its sender alone (`answer_inline`), if any.
EventSink = Callable[[IncomingMessage | PlatformEvent], Awaitable[str | None]]


class DeliveryError(Exception):
    """A send failed; `permanent` means retrying can never succeed (kicked, chat gone).

    `parts_sent` counts the parts of the message (see OutgoingMessage.parts_sent) that had
    been delivered, in this attempt and earlier ones, when the send failed.
    """

    def __init__(self, reason: str, *, permanent: bool, parts_sent: int = 0) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.parts_sent = parts_sent


class Adapter(Protocol):
    """A connected platform: `run` feeds the sink until cancelled, `send` delivers one message."""

    platform: Platform

    async def run(self, sink: EventSink) -> None:
        """Connect, then pass every incoming message or platform event to `sink`."""
        ...

    async def send(self, message: OutgoingMessage) -> None:
        """Deliver one outbox message, pacing as the platform requires; raise DeliveryError."""
        ...
