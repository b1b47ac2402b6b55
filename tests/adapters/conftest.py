"""Adapter tests run the real app on the wall clock: its quiet hours are switched off here."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from config.settings import Settings


@pytest.fixture(scope="session")
def settings(settings: Settings) -> Settings:
    """The demo community without quiet hours (start == end), so that pushes such as a
    rating question or a vote result go out at once whatever the time of day the tests run."""
    always = dt.time(12, 0)
    return replace(settings, quiet_hours=replace(settings.quiet_hours, start=always, end=always))
