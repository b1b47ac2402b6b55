"""One failing schedule service must not stop the others (live scheduler and replay ticks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.scheduler import LiveScheduler
from tests.fakes import AppHarness


class Service:
    """A schedule service that records its runs, and fails when told to."""

    def __init__(self, name: str, *, fails: bool) -> None:
        self.name, self.fails, self.runs = name, fails, 0

    async def run_due(self) -> None:
        self.runs += 1
        if self.fails:
            raise RuntimeError(f"{self.name} is broken")

    async def next_due_at(self) -> datetime | None:
        return datetime(2030, 1, 1, tzinfo=UTC)


async def test_live_scheduler_runs_the_others_and_plans_the_failing_one_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken, healthy = Service("broken", fails=True), Service("healthy", fails=False)
    scheduler = LiveScheduler([broken, healthy], ZoneInfo("Asia/Shanghai"))
    await scheduler.start()  # runs every service once, then plans their next wake-ups
    try:
        planned = scheduler.planned()
    finally:
        await scheduler.stop()
    assert (broken.runs, healthy.runs) == (1, 1)
    assert "scheduled work of broken failed" in caplog.text
    assert planned["due:broken"] == datetime(2030, 1, 1, tzinfo=UTC)


async def test_a_replay_tick_runs_every_job_even_after_one_fails(app: AppHarness) -> None:
    broken, healthy = Service("broken", fails=True), Service("healthy", fails=False)
    app.app.due_jobs = (broken.run_due, *app.app.due_jobs, healthy.run_due)
    await app.tick(app.clock.now() + timedelta(minutes=5))
    assert (broken.runs, healthy.runs) == (1, 1)
