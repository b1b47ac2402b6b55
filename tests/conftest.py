"""Shared fixtures: the demo settings, and a real app on a temporary SQLite file."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_app
from bot.clock import FakeClock
from config.environment import Secrets, demo_config_path
from config.settings import Settings, load_settings
from tests.fakes import AppHarness, RecordingAdapter

# python-telegram-bot 22 warns inside its own RetryAfter unless opted in (warnings are errors).
os.environ.setdefault("PTB_TIMEDELTA", "true")

START = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True, scope="session")
def _classify_on_the_event_loop() -> Iterator[None]:
    """Apps built by tests classify on the event loop, whatever the machine ("auto" workers
    would spawn a process per app); the worker tests ask for workers explicitly."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("config.sections.usable_cores", lambda: 1)
        yield


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The demo community."""
    return load_settings(demo_config_path())


@asynccontextmanager
async def started_app(settings: Settings, tmp_path: Path) -> AsyncIterator[AppHarness]:
    """A started app with a recording adapter and a fake clock at 1 Dec 2026 09:00."""
    clock = FakeClock(START)
    adapter = RecordingAdapter()
    # Charts and images go under the test's own folder, not the working directory.
    local = replace(settings, storage=replace(settings.storage, data_dir=tmp_path / "data"))
    built = build_app(
        local,
        Secrets(),
        clock=clock,
        adapters=[adapter],
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'linli.db'}",
    )
    await built.start()
    try:
        yield AppHarness(built, clock, adapter)
    finally:
        await built.stop()


@pytest.fixture
async def app(settings: Settings, tmp_path: Path) -> AsyncIterator[AppHarness]:
    """A started app on the demo community (see `started_app`)."""
    async with started_app(settings, tmp_path) as harness:
        yield harness
