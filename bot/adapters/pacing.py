"""Telegram's flood limits as pure bookkeeping (`SendSchedule`) and turns on the loop (`Pacer`).

About 30 messages/s overall, 20 per minute in one group, about one per second in a private chat.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Final

# Telegram asks for about one message per second in a single private chat.
PRIVATE_CHAT_INTERVAL_SECONDS: Final = 1.0
# Requests granted exactly one window apart can reach Telegram closer together than that.
GROUP_WINDOW_MARGIN_SECONDS: Final = 1.0


@dataclass(frozen=True, slots=True, order=True)
class SendTicket:
    """One API send waiting for its turn; urgent ones sort first, then first come first served."""

    priority: int
    seq: int
    chat_key: str = field(compare=False)
    is_group: bool = field(compare=False)


class SendSchedule:
    """Pure bookkeeping of Telegram's flood limits: which waiting send may go at `now`."""

    def __init__(self, per_group_per_minute: int, overall_per_second: float) -> None:
        self._group_limit = per_group_per_minute
        self._group_window = 60.0 + GROUP_WINDOW_MARGIN_SECONDS
        self._overall_interval = 1.0 / overall_per_second
        self._next_overall_at = float("-inf")
        self._group_sends: dict[str, deque[float]] = {}
        self._private_next_at: dict[str, float] = {}
        self._waiting: list[SendTicket] = []

    def add(self, ticket: SendTicket) -> None:
        """Queue a send."""
        bisect.insort(self._waiting, ticket)

    def discard(self, ticket: SendTicket) -> None:
        """Forget a send whose sender gave up waiting."""
        with contextlib.suppress(ValueError):
            self._waiting.remove(ticket)

    def release(self, now: float) -> tuple[SendTicket | None, float | None]:
        """The send allowed now (if any) and when to look again (None: nothing is waiting)."""
        if not self._waiting:
            return None, None
        if now < self._next_overall_at:
            return None, self._next_overall_at
        earliest = float("inf")
        for ticket in self._waiting:
            ready_at = self._chat_ready_at(ticket, now)
            if ready_at <= now:
                self._waiting.remove(ticket)
                self._record(ticket, now)
                return ticket, (self._next_overall_at if self._waiting else None)
            earliest = min(earliest, ready_at)
        return None, earliest

    def _chat_ready_at(self, ticket: SendTicket, now: float) -> float:
        if not ticket.is_group:
            return self._private_next_at.get(ticket.chat_key, now)
        sends = self._group_sends.get(ticket.chat_key)
        if sends is None:
            return now
        while sends and sends[0] <= now - self._group_window:
            sends.popleft()
        if not sends:
            del self._group_sends[ticket.chat_key]
            return now
        return now if len(sends) < self._group_limit else sends[0] + self._group_window

    def _record(self, ticket: SendTicket, now: float) -> None:
        self._next_overall_at = now + self._overall_interval
        if ticket.is_group:
            self._group_sends.setdefault(ticket.chat_key, deque()).append(now)
        else:
            self._private_next_at[ticket.chat_key] = now + PRIVATE_CHAT_INTERVAL_SECONDS


class Pacer:
    """Hands out send turns on the event loop's clock, following a `SendSchedule`."""

    def __init__(self, schedule: SendSchedule) -> None:
        self._schedule = schedule
        self._seq = itertools.count()
        self._turns: dict[SendTicket, asyncio.Future[None]] = {}
        self._timer: asyncio.TimerHandle | None = None

    async def turn(self, chat_key: str, *, is_group: bool, urgent: bool) -> None:
        """Wait until this chat may receive one more message."""
        ticket = SendTicket(0 if urgent else 1, next(self._seq), chat_key, is_group)
        turn = asyncio.get_running_loop().create_future()
        self._turns[ticket] = turn
        self._schedule.add(ticket)
        self._pump()
        try:
            await turn
        finally:
            del self._turns[ticket]
            if not turn.done() or turn.cancelled():
                self._schedule.discard(ticket)
                self._pump()

    def _pump(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        loop = asyncio.get_running_loop()
        ticket, wake_at = self._schedule.release(loop.time())
        while ticket is not None:
            turn = self._turns.get(ticket)
            if turn is not None and not turn.done():
                turn.set_result(None)
            ticket, wake_at = self._schedule.release(loop.time())
        if wake_at is not None:
            self._timer = loop.call_at(wake_at, self._pump)
