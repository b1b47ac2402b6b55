"""The message log is kept for `[storage] keep_message_log_days`: older inbox records and
sent messages are deleted daily, and a message older than that is never acted on."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.events import ChatRef, IncomingMessage, MemberJoined, Platform, UserRef
from storage.schema import inbox, outbox
from tests.fakes import AppHarness

TZ = ZoneInfo("Asia/Shanghai")
REPAIR = "5幢1单元的电梯又坏了，停在三楼不动，老人上下楼太难了"


async def _count(app: AppHarness, table: object, *where: object) -> int:
    async with app.app.database.reading() as connection:
        query = select(func.count()).select_from(table).where(*where)  # type: ignore[arg-type]
        return int((await connection.execute(query)).scalar_one())


async def test_old_messages_are_forgotten_daily_and_recent_ones_kept(
    app: AppHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the config's data dir is relative: charts go here
    charts = app.app.settings.storage.data_dir / "charts"
    charts.mkdir(parents=True)
    keep = timedelta(days=app.app.settings.storage.keep_message_log_days)
    await app.say(REPAIR, message_id="old")  # a ticket, its answer and notices
    await app.say("")  # an empty message, no reply
    # In a chat not bound to a group: the bind hint's record is Linli's own, kept for good.
    unbound = await app.say("有人吗", chat="g-unknown")
    assert unbound
    assert await _count(app, outbox) and await _count(app, inbox) == 4
    start = app.clock.now()
    (charts / "weekly-old.png").write_bytes(b"\x89PNG")
    os.utime(charts / "weekly-old.png", (start.timestamp(), start.timestamp()))
    # Just before the limit nothing goes; the daily run after it forgets the old rows.
    await app.tick(start + keep - timedelta(days=1))
    await app.say("谢谢大家", message_id="recent")
    (charts / "weekly-recent.png").write_bytes(b"\x89PNG")
    os.utime(charts / "weekly-recent.png", (app.clock.now().timestamp(),) * 2)
    assert await _count(app, inbox) == 5
    # The limit, plus a day's margin for platform clocks running ahead of ours.
    await app.tick(start + keep + timedelta(days=2))
    assert await _count(app, inbox, inbox.c.message_id == "recent") == 1
    assert await _count(app, inbox, inbox.c.message_id.startswith("linli:")) == 1
    assert await _count(app, inbox) == 2
    assert await _count(app, outbox, outbox.c.created_at <= start) == 0
    assert [p.name for p in charts.iterdir()] == ["weekly-recent.png"]
    # The ticket itself is kept.
    detail = await app.say("/ticket 1001", user="p-sec", chat=None)
    assert "5幢1单元" in detail[0].text


async def test_the_run_is_daily_at_four_in_the_morning(app: AppHarness) -> None:
    keeper = next(s for s in app.app.scheduled if s.name == "housekeeping")
    await app.tick(datetime(2026, 12, 3, 15, 0, tzinfo=TZ))
    assert await keeper.next_due_at() == datetime(2026, 12, 4, 4, 0, tzinfo=TZ)
    await app.tick(datetime(2026, 12, 4, 4, 0, tzinfo=TZ))
    assert await keeper.next_due_at() == datetime(2026, 12, 5, 4, 0, tzinfo=TZ)


async def test_a_message_older_than_the_log_is_skipped(
    app: AppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    keep = timedelta(days=app.app.settings.storage.keep_message_log_days)
    now = app.clock.now()

    def sent(message_id: str, at: datetime) -> IncomingMessage:
        return IncomingMessage(
            message_id=message_id,
            chat=ChatRef(Platform.CONSOLE, "g-ty51"),
            sender=UserRef(Platform.CONSOLE, "p-res1"),
            text=REPAIR,
            sent_at=at,
        )

    await app.app.pipeline.handle(sent("replayed", now - keep - timedelta(minutes=1)))
    await app.app.deliver()
    assert app.adapter.sent == []
    assert "skipping message replayed in chat g-ty51 on console" in caplog.text
    assert await _count(app, inbox) == 0
    # A week-old message the platform delivers late is still a request.
    await app.app.pipeline.handle(sent("late", now - timedelta(days=7)))
    await app.app.deliver()
    assert "工单号 1001" in app.adapter.sent[0].text


async def test_a_join_older_than_the_log_gets_no_welcome(app: AppHarness) -> None:
    keep = timedelta(days=app.app.settings.storage.keep_message_log_days)
    now = app.clock.now()
    chat = ChatRef(Platform.CONSOLE, "g-ty51")

    def joined(event_id: str, at: datetime) -> MemberJoined:
        return MemberJoined(chat, UserRef(Platform.CONSOLE, "p-new"), event_id, at)

    await app.app.pipeline.handle(joined("j-old", now - keep - timedelta(hours=1)))
    await app.app.deliver()
    assert app.adapter.sent == []
    await app.app.pipeline.handle(joined("j-new", now - timedelta(minutes=1)))
    await app.app.deliver()
    assert "桃源5幢1单元楼道群" in app.adapter.sent[0].text
