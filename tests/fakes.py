"""Test doubles that are real implementations of the ports: a recording adapter, a harness."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.adapters.base import EventSink
from bot.app import App
from bot.clock import FakeClock
from bot.events import ChatRef, IncomingMessage, OutgoingMessage, Platform, UserRef


class RecordingAdapter:
    """A console-platform adapter that keeps what it is asked to send."""

    platform = Platform.CONSOLE

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def run(self, sink: EventSink) -> None:
        """Tests push messages through the harness instead."""
        del sink

    async def send(self, message: OutgoingMessage) -> None:
        """Keep the message."""
        self.sent.append(message)


@dataclass
class AppHarness:
    """Drives a real app (real SQLite, real pipeline) like a chat transcript."""

    app: App
    clock: FakeClock
    adapter: RecordingAdapter
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def say(
        self,
        text: str,
        *,
        user: str = "p-res1",
        chat: str | None = "g-ty51",
        message_id: str | None = None,
        name: str = "",
        image: str | None = None,
        after: timedelta = timedelta(minutes=1),
    ) -> list[OutgoingMessage]:
        """Send one message and return everything Linli sent because of it."""
        self.clock.set(self.clock.now() + after)
        message = IncomingMessage(
            message_id=message_id or f"m{next(self._ids)}",
            chat=ChatRef(Platform.CONSOLE, chat)
            if chat is not None
            else ChatRef(Platform.CONSOLE, user, is_group=False),
            sender=UserRef(Platform.CONSOLE, user, name),
            text=text,
            sent_at=self.clock.now(),
            image=image,
        )
        before = len(self.adapter.sent)
        await self.app.pipeline.handle(message)
        await self.app.run_due()
        await self.app.deliver()
        return self.adapter.sent[before:]

    async def tick(self, at: datetime) -> list[OutgoingMessage]:
        """Move the clock and run what is due."""
        before = len(self.adapter.sent)
        self.clock.set(at)
        await self.app.run_due()
        await self.app.deliver()
        return self.adapter.sent[before:]

    def last_reply(self) -> OutgoingMessage:
        """The last message Linli sent."""
        return self.adapter.sent[-1]
