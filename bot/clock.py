"""Time as a collaborator: services ask a Clock, so replays and tests can move time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Gives the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """The current instant, tz-aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant from the system, in UTC."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to: replays and tests drive it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The virtual instant, in UTC."""
        return self._now

    def set(self, instant: datetime) -> None:
        """Move the clock to `instant` (never backwards)."""
        instant = instant.astimezone(UTC)
        self._now = max(self._now, instant)
