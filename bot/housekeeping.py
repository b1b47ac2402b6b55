"""Keeping the message log bounded: once a day, Linli forgets the platform messages it received
and the messages it sent (with the weekly charts they carried) longer ago than
`[storage] keep_message_log_days`.

The inbox rows are what tells a redelivered message from a new one, so the pipeline skips any
message sent before the same limit (see `Pipeline`): a message the log has forgotten is never
acted on twice. Tickets, their history, votes and everything else are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.reminders import next_local

RUN_AT = time(4, 0)
"""Local time of the daily run (quiet, and before the morning digests)."""
BATCH = 1000
"""Rows deleted per transaction: the write lock is never held for long."""
MARGIN = timedelta(days=1)
"""Kept beyond the limit: a platform whose clock runs ahead of ours sends a message whose
`sent_at` is inside the log while its inbox row, stamped by our clock, would already be out."""

logger = logging.getLogger(__name__)


class MessageLog(Protocol):
    """A part of the message log that can forget old entries (rows, chart pictures)."""

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` entries older than `before`; how many were deleted."""
        ...


class MessageLogKeeper:
    """The schedule service that prunes the message log, at start-up and daily at RUN_AT."""

    name = "housekeeping"

    def __init__(
        self, logs: Sequence[MessageLog], keep: timedelta, clock: Clock, timezone: ZoneInfo
    ) -> None:
        self._logs, self._keep, self._clock, self._timezone = tuple(logs), keep, clock, timezone
        # Pruning is idempotent, so the next run lives in memory: a restart prunes once more.
        self._next_at: datetime | None = None

    async def run_due(self) -> None:
        """Prune every table of the log, if a run is due."""
        now = self._clock.now()
        if self._next_at is not None and now < self._next_at:
            return
        before = now - self._keep - MARGIN
        for log in self._logs:
            deleted = 0
            while (count := await log.prune(before, BATCH)) > 0:
                deleted += count
                if count < BATCH:
                    break
            if deleted:
                logger.info("message log: forgot %d of %s", deleted, type(log).__name__)
        self._next_at = next_local(now, RUN_AT, self._timezone)

    async def next_due_at(self) -> datetime | None:
        """The next daily run (None before the first run: the scheduler runs it at start-up)."""
        return self._next_at
