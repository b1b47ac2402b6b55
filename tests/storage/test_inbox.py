"""The dedupe inbox: a message id counts as new exactly once per chat and platform."""

from __future__ import annotations

from bot.events import Platform
from bot.ports import InboxKey
from storage.db import Database
from storage.messages import SqlInboxRepository
from tests.storage.conftest import AT


def _key(chat: str, message: str, platform: Platform = Platform.CONSOLE) -> InboxKey:
    return InboxKey(platform, chat, message)


async def test_a_batch_is_new_once_per_key_across_batches_and_within_one(
    database: Database,
) -> None:
    inbox = SqlInboxRepository(database)
    assert await inbox.record_many([_key("g1", "m1"), _key("g1", "m2")], AT) == [True, True]
    batch = [
        _key("g1", "m1"),  # stored by the first batch
        _key("g2", "m1"),  # the same id in another chat
        _key("g1", "m1", Platform.TELEGRAM),  # the same chat and id on another platform
        _key("g1", "m3"),
        _key("g1", "m3"),  # repeated within the batch: new only the first time
    ]
    assert await inbox.record_many(batch, AT) == [False, True, True, True, False]
    assert await inbox.record_many([], AT) == []
    assert not await inbox.record(Platform.CONSOLE, "g1", "m3", AT)
