"""The live scheduler (APScheduler 3, in-memory job store only) that wakes the schedule services.

The database says what is due; jobs only wake the services up. Each service gets one date job
(`due:{name}`) at its next due instant, re-planned after every run, and a safety job runs every
service each minute, so nothing missed during a restart or a clock jump is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

logger = logging.getLogger(__name__)
SAFETY_JOB_ID = "due:safety"


class Scheduled(Protocol):
    """A schedule service: idempotent `run_due`, and when it next has something to do."""

    @property
    def name(self) -> str:
        """Stable name, used in the job id `due:{name}`."""
        ...

    async def run_due(self) -> None:
        """Do everything due up to now that is not done yet."""
        ...

    async def next_due_at(self) -> datetime | None:
        """The next instant something becomes due (None: nothing planned)."""
        ...


class LiveScheduler:
    """Wakes the schedule services at their due instants; started in `App.lifespan`."""

    def __init__(
        self,
        scheduled: Sequence[Scheduled],
        timezone: ZoneInfo,
        safety_interval: timedelta = timedelta(minutes=1),
    ) -> None:
        self._scheduled = tuple(scheduled)
        self._safety_interval = safety_interval
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # coalesce + no misfire limit: a job missed while the loop was busy runs once, late;
        # anything missed while the process was down is caught up from the database.
        self._scheduler = AsyncIOScheduler(
            timezone=timezone,
            jobstores={"default": MemoryJobStore()},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )

    async def start(self) -> None:
        """Start on the running loop, catch up on what is due, and plan the next runs."""
        self._scheduler.start()
        self._scheduler.add_job(
            self.run_all,
            IntervalTrigger(seconds=self._safety_interval.total_seconds()),
            id=SAFETY_JOB_ID,
            replace_existing=True,
        )
        await self.run_all()

    async def run_all(self) -> None:
        """Run every service once (start-up catch-up and the safety job)."""
        for service in self._scheduled:
            await self.run(service)

    async def run(self, service: Scheduled) -> None:
        """Run one service, then plan its next wake-up; never two runs of one service at once."""
        async with self._locks[service.name]:
            try:
                await service.run_due()
            except Exception:
                # The scheduler's own error boundary: one service's failure (a bad row, a
                # config change that broke a lookup) must not stop the others or this loop;
                # the safety job retries it every minute, and the log says why.
                logger.exception("scheduled work of %s failed", service.name)
            await self._plan(service)

    async def _plan(self, service: Scheduled) -> None:
        job_id = f"due:{service.name}"
        due_at = await service.next_due_at()
        if due_at is None:
            if self._scheduler.get_job(job_id) is not None:
                self._scheduler.remove_job(job_id)
            return
        self._scheduler.add_job(
            self.run,
            DateTrigger(run_date=due_at),
            args=[service],
            id=job_id,
            replace_existing=True,
        )
        logger.debug("%s next due at %s", service.name, due_at.isoformat())

    def planned(self) -> dict[str, datetime | None]:
        """Job id -> next run time (for operators and tests)."""
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    async def stop(self) -> None:
        """Plan no more runs, then wait for a run in progress, so the database can close."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        for lock in list(self._locks.values()):
            async with lock:
                pass
