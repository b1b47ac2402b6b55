"""Unknown platform groups: one hint, then `/bind` by a secretary; migrations and removals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.events import BotRemoved, ChatMigrated, ChatRef, IncomingMessage, Platform, UserRef
from handlers.texts import bindings as texts
from storage.outbox import SqlOutboxRepository
from tests.fakes import AppHarness

UNKNOWN = ChatRef(Platform.TELEGRAM, "-100777")


def _message(message_id: str, text: str, user: str) -> IncomingMessage:
    return IncomingMessage(
        message_id=message_id,
        chat=UNKNOWN,
        sender=UserRef(Platform.TELEGRAM, user),
        text=text,
        sent_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
    )


async def _send(app: AppHarness, message: IncomingMessage) -> list[str]:
    before = len(app.adapter.sent)
    await app.app.pipeline.handle(message)
    await app.app.deliver()
    return [m.text for m in app.adapter.sent[before:]]


async def test_unknown_group_gets_one_hint_then_binds(app: AppHarness) -> None:
    # The recording adapter only speaks console: read what waits for Telegram in the outbox.
    directory = app.app.directory
    assert directory.group_for_chat(UNKNOWN) is None
    await app.app.pipeline.handle(_message("1", "电梯坏了", "42"))
    await app.app.pipeline.handle(_message("2", "楼道灯坏了", "42"))
    outbox = SqlOutboxRepository(app.app.database)
    pending = await outbox.pending(Platform.TELEGRAM, app.clock.now(), 10)
    assert [m.text for m in pending] == [texts.HOW_TO_BIND]
    # A resident may not bind; the secretary (telegram id 510000001 in the demo) may.
    await app.app.pipeline.handle(_message("3", "/bind g-ty52", "42"))
    await app.app.pipeline.handle(_message("4", "/绑定 g-ty52", "510000001"))
    group = directory.group_for_chat(UNKNOWN)
    assert group is not None and group.id == "g-ty52"


async def test_migration_moves_the_binding_and_removal_stops_it(app: AppHarness) -> None:
    old = ChatRef(Platform.TELEGRAM, "-1001873204451")  # g-ty51 in the demo config
    await app.app.pipeline.handle(ChatMigrated(Platform.TELEGRAM, old.chat_id, "-100999"))
    directory = app.app.directory
    assert directory.group_for_chat(old) is None
    moved = directory.group_for_chat(ChatRef(Platform.TELEGRAM, "-100999"))
    assert moved is not None and moved.id == "g-ty51"
    await app.app.pipeline.handle(BotRemoved(ChatRef(Platform.TELEGRAM, "-100999")))
    assert directory.group_for_chat(ChatRef(Platform.TELEGRAM, "-100999")) is None
    # The stored bindings survive a restart.
    await app.app.services.bindings.load()
    assert directory.group_for_chat(ChatRef(Platform.TELEGRAM, "-100999")) is None
    assert directory.group_for_chat(old) is None


async def test_rebinding_a_group_releases_its_old_chat(app: AppHarness) -> None:
    directory = app.app.directory
    old = ChatRef(Platform.TELEGRAM, "-1001873204451")  # g-ty51 in the demo config
    await app.app.pipeline.handle(_message("5", "/bind g-ty51", "510000001"))
    assert directory.group_for_chat(old) is None
    group = directory.group_for_chat(UNKNOWN)
    assert group is not None and group.id == "g-ty51"
    chat = directory.chat_of_group(group, Platform.TELEGRAM)
    assert chat is not None and chat.chat_id == UNKNOWN.chat_id


async def test_a_compound_secretary_cannot_take_over_another_compounds_chat(
    app: AppHarness,
) -> None:
    meiyuan_chat = ChatRef(Platform.TELEGRAM, "-1001873204521")  # g-my21 in the demo config
    message = replace(_message("6", "/bind g-ty52", "510000002"), chat=meiyuan_chat)
    await app.app.pipeline.handle(message)  # 510000002 is 李书记 of 桃源小区
    group = app.app.directory.group_for_chat(meiyuan_chat)
    assert group is not None and group.id == "g-my21"
