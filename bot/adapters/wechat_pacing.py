"""What the WeChat adapter sends, and when: send slots paced against account restriction
(minimum gaps per room and overall, random jitter, a daily cap, urgent first), long texts
split on line boundaries, and inline buttons turned into a numbered list.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.events import Button
from handlers.texts import common as common_texts

# How many recent grants the pacer remembers for logs, tests and the bench.
_HISTORY = 1000


class PacingClock(Protocol):
    """Time for the pacer: a monotonic reading, the wall-clock day, and a sleep."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def now(self) -> datetime:
        """The current instant, tz-aware (decides which day the daily cap counts)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        ...


class SystemPacingClock:
    """The real clock."""

    def monotonic(self) -> float:
        """The event loop's monotonic time."""
        return asyncio.get_running_loop().time()

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """Sleep on the event loop."""
        await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class PacingPolicy:
    """The numbers that keep a WeChat account clear of restriction."""

    min_interval_per_room_seconds: float = 3.0
    min_interval_overall_seconds: float = 1.5
    jitter_seconds: float = 2.0
    daily_cap: int = 500
    timezone_name: str = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class Grant:
    """One send slot handed out: which room, at what monotonic time, and whether urgent."""

    room_id: str
    at: float
    urgent: bool


class DailyCapReached(Exception):
    """Today's cap of sent messages is used up; non-urgent messages wait for tomorrow."""


@dataclass(slots=True)
class _Waiter:
    room_id: str
    urgent: bool
    seq: int
    granted: asyncio.Future[None] = field(repr=False)


class SendPacer:
    """Hands out send slots one at a time: urgent first, then the earliest-ready, then FIFO.

    After each slot the next send anywhere waits `min_interval_overall_seconds` and the next
    send into the same room `min_interval_per_room_seconds`, both plus one random jitter
    draw. Urgent messages still keep the intervals but may exceed the daily cap: an alert
    about a gas leak matters more than the account's quota.
    """

    def __init__(
        self, policy: PacingPolicy, clock: PacingClock, rng: random.Random | None = None
    ) -> None:
        self._policy, self._clock = policy, clock
        self._rng = rng or random.Random()
        self._zone = ZoneInfo(policy.timezone_name)
        self._waiters: list[_Waiter] = []
        self._seq = itertools.count()
        self._next_overall_at = float("-inf")
        self._next_room_at: dict[str, float] = {}
        self._day: date | None = None
        self._sent_today = 0
        self._arrived = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self.history: deque[Grant] = deque(maxlen=_HISTORY)

    def remaining_today(self) -> int:
        """How many non-urgent messages may still go out today."""
        self._roll_day()
        return max(0, self._policy.daily_cap - self._sent_today)

    async def acquire(self, room_id: str, *, urgent: bool) -> None:
        """Wait for this room's next send slot; raise DailyCapReached if today's cap is used."""
        waiter = _Waiter(
            room_id, urgent, next(self._seq), asyncio.get_running_loop().create_future()
        )
        self._waiters.append(waiter)
        self._arrived.set()
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="wechat-send-pacer")
        try:
            await waiter.granted
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def close(self) -> None:
        """Stop handing out slots; waiting senders are cancelled."""
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        for waiter in self._waiters:
            waiter.granted.cancel()

    async def _run(self) -> None:
        while True:
            self._waiters = [w for w in self._waiters if not w.granted.done()]
            if not self._waiters:
                return
            waiter, ready_at = self._pick()
            delay = ready_at - self._clock.monotonic()
            if delay > 0:
                await self._sleep_or_arrival(delay)
                continue
            self._grant(waiter)

    def _pick(self) -> tuple[_Waiter, float]:
        def key(waiter: _Waiter) -> tuple[bool, float, int]:
            return (not waiter.urgent, self._ready_at(waiter.room_id), waiter.seq)

        waiter = min(self._waiters, key=key)
        return waiter, self._ready_at(waiter.room_id)

    def _ready_at(self, room_id: str) -> float:
        return max(self._next_overall_at, self._next_room_at.get(room_id, float("-inf")))

    async def _sleep_or_arrival(self, delay: float) -> None:
        # A new (maybe urgent) waiter cuts the sleep short so it is considered at once.
        self._arrived.clear()
        sleeper = asyncio.ensure_future(self._clock.sleep(delay))
        arrival = asyncio.ensure_future(self._arrived.wait())
        try:
            await asyncio.wait({sleeper, arrival}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, arrival):
                task.cancel()
            await asyncio.gather(sleeper, arrival, return_exceptions=True)

    def _grant(self, waiter: _Waiter) -> None:
        self._waiters.remove(waiter)
        self._roll_day()
        if not waiter.urgent and self._sent_today >= self._policy.daily_cap:
            waiter.granted.set_exception(
                DailyCapReached(f"daily cap of {self._policy.daily_cap} messages reached")
            )
            return
        now = self._clock.monotonic()
        jitter = self._rng.uniform(0.0, self._policy.jitter_seconds)
        self._next_overall_at = now + self._policy.min_interval_overall_seconds + jitter
        self._next_room_at[waiter.room_id] = (
            now + self._policy.min_interval_per_room_seconds + jitter
        )
        self._sent_today += 1
        self.history.append(Grant(waiter.room_id, now, waiter.urgent))
        waiter.granted.set_result(None)

    def _roll_day(self) -> None:
        today = self._clock.now().astimezone(self._zone).date()
        if today != self._day:
            self._day, self._sent_today = today, 0


def split_text(text: str, limit: int) -> list[str]:
    """Cut `text` into pieces of at most `limit` characters, at line ends where possible."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = line if not current else f"{current}\n{line}"
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(line) > limit:
            pieces.append(line[:limit])
            line = line[limit:]
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


def with_numbered_choices(text: str, buttons: Sequence[Button]) -> str:
    """WeChat has no buttons: list them as numbered replies under the text."""
    return common_texts.with_numbered_choices(text, [button.label for button in buttons])
