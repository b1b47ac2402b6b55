"""Flows: a live flow reads back, an expired one reads as none and is deleted later."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.domain.conversations import ConversationService
from bot.events import ChatRef, Platform, UserRef
from storage.conversations import SqlConversationRepository
from storage.db import Database
from tests.storage.conftest import AT

GROUP = ChatRef(Platform.CONSOLE, "g-ty51")


def _user(user_id: str) -> UserRef:
    return UserRef(Platform.CONSOLE, user_id)


async def test_starting_a_flow_deletes_the_expired_ones_and_keeps_the_live(
    database: Database,
) -> None:
    clock = FakeClock(AT)
    stored = SqlConversationRepository(database)
    flows = ConversationService(stored, clock)
    await flows.start(GROUP, _user("old"), "confirm", {"label": "repair"}, timedelta(minutes=10))
    clock.set(AT + timedelta(minutes=5))
    await flows.start(GROUP, _user("live"), "confirm", {}, timedelta(minutes=30))
    clock.set(AT + timedelta(minutes=20))

    assert await flows.current(GROUP, _user("old")) is None  # expired: no flow
    assert await stored.get(GROUP, _user("old")) is not None  # but still stored

    await flows.start(GROUP, _user("new"), "confirm", {}, timedelta(minutes=30))

    assert await stored.get(GROUP, _user("old")) is None
    live = await flows.current_many([(GROUP, _user("live")), (GROUP, _user("new"))])
    assert {user.user_id: flow.state for (_, user), flow in live.items()} == {
        "live": "confirm",
        "new": "confirm",
    }
