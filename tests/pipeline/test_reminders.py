"""Reminders, duty and digests as chat transcripts, with restarts on the same database."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_app
from bot.clock import FakeClock
from bot.domain.digests import DrawnReview, WeeklyReview
from bot.domain.reminders import SendOutcome
from bot.events import ChatRef, IncomingMessage, OutgoingMessage, Platform, UserRef
from bot.scheduler import LiveScheduler
from config.environment import Secrets
from config.settings import Settings
from handlers.texts import common as common_texts
from storage.reminders import SqlSendLedger
from tests.fakes import AppHarness, RecordingAdapter

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _charts_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Monday ticks draw weekly charts into the config's relative data dir: keep it here."""
    monkeypatch.chdir(tmp_path)


def _at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def _texts(sent: list[OutgoingMessage]) -> list[str]:
    return [message.text for message in sent]


async def _tick(app: AppHarness, at: datetime) -> list[OutgoingMessage]:
    """What a tick sent, without the secretaries' morning digests (tested on their own)."""
    return [m for m in await app.tick(at) if not m.text.startswith(("【日报】", "【周研判】"))]


async def test_leader_reminder_fires_once_in_his_group(app: AppHarness) -> None:
    sent = await app.say("/提醒 明天上午9点 收电费", user="p-lead", chat="g-ty51")
    assert "已设置提醒 1" in sent[0].text and "12月2日（星期三）9:00" in sent[0].text
    assert await _tick(app, _at(12, 2, 8, 59)) == []
    fired = await _tick(app, _at(12, 2, 9, 0))
    assert [(m.chat.chat_id, m.text) for m in fired] == [
        ("g-ty51", "【提醒】收电费\n（周楼长设置）")
    ]
    assert await _tick(app, _at(12, 2, 10, 0)) == []


@pytest.mark.parametrize(
    ("expression", "shown"),
    [
        ("明天", "12月2日（星期三）9:00"),
        ("后天", "12月3日（星期四）9:00"),
        ("下周三", "12月9日（星期三）9:00"),
        ("每月5号", "每月5号 9:00（下次 12月5日（星期六）9:00）"),
        ("每周一", "每周一 9:00（下次 12月7日（星期一）9:00）"),
        ("15:30", "12月1日（星期二）15:30"),
        ("下午三点", "12月1日（星期二）15:00"),
        ("晚上8点半", "12月1日（星期二）20:30"),
        ("12月11日", "12月11日（星期五）9:00"),
        ("明天上午9点", "12月2日（星期三）9:00"),
    ],
)
async def test_remind_understands_the_listed_expressions(
    app: AppHarness, expression: str, shown: str
) -> None:
    sent = await app.say(f"/remind {expression} 收电费", user="p-sec", chat="g-fuqiang")
    assert shown in sent[0].text and "收电费" in sent[0].text


async def test_who_may_set_reminders_where(app: AppHarness) -> None:
    refused = "抱歉，楼道长可在本楼道群"
    assert refused in (await app.say("/提醒 明天 开会", user="p-res1"))[0].text
    assert refused in (await app.say("/提醒 明天 开会", user="p-lead", chat="g-ty52"))[0].text
    ok = await app.say("/提醒 明天 开会", user="p-sec-ty", chat="g-ty52")
    assert "已设置提醒" in ok[0].text
    assert refused in (await app.say("/提醒 明天 开会", user="p-sec-ty", chat="g-my21"))[0].text
    assert "已设置提醒" in (await app.say("/提醒 明天 开会", user="p-sec", chat="g-my21"))[0].text
    assert "请写上时间和内容" in (await app.say("/提醒 收电费", user="p-sec", chat=None))[0].text


async def test_list_and_cancel(app: AppHarness) -> None:
    await app.say("/提醒 明天上午9点 收电费", user="p-lead", chat="g-ty51")
    await app.say("/提醒 每周一 楼道卫生检查", user="p-lead", chat="g-ty51")
    listed = await app.say("/提醒列表", user="p-lead", chat="g-ty51")
    assert listed[0].chat.chat_id == "p-lead" and not listed[0].chat.is_group
    assert "1. 12月2日" in listed[0].text and "2. 每周一 9:00" in listed[0].text
    denied = await app.say("/取消提醒 1", user="p-lead-ty52", chat="g-ty52")
    assert "只有设置提醒的人" in denied[0].text
    assert "已取消提醒 1" in (await app.say("/取消提醒 1", user="p-lead", chat="g-ty51"))[0].text
    assert await _tick(app, _at(12, 2, 9, 0)) == []
    weekly = await _tick(app, _at(12, 7, 9, 0))
    assert _texts(weekly) == ["【提醒】楼道卫生检查\n（周楼长设置）"]
    await _tick(app, _at(12, 11, 8, 0))  # the visitor-day reminders, tested elsewhere
    assert _texts(await _tick(app, _at(12, 14, 9, 0))) == ["【提醒】楼道卫生检查\n（周楼长设置）"]


async def test_quiet_hours_hold_a_reminder_until_morning(app: AppHarness) -> None:
    sent = await app.say("/提醒 晚上10点 关好门窗", user="p-lead", chat="g-ty51")
    assert "免打扰" in sent[0].text
    assert await _tick(app, _at(12, 1, 22, 0)) == []
    assert await _tick(app, _at(12, 2, 7, 29)) == []
    assert _texts(await _tick(app, _at(12, 2, 7, 30))) == ["【提醒】关好门窗\n（周楼长设置）"]


async def _restart(app: AppHarness, settings: Settings, at: datetime) -> AppHarness:
    """Stop the app and start a new one on the same database, as if killed and restarted."""
    url = app.app.database.url
    await app.app.stop()
    clock = FakeClock(at)
    adapter = RecordingAdapter()
    built = build_app(settings, Secrets(), clock=clock, adapters=[adapter], database_url=url)
    await built.start()
    return AppHarness(built, clock, adapter)


async def test_reminder_missed_while_down(app: AppHarness, settings: Settings) -> None:
    await app.say("/提醒 明天上午9点 收电费", user="p-lead", chat="g-ty51")
    await app.say("/提醒 明天上午10点 交材料", user="p-lead", chat="g-ty51")
    await _tick(app, _at(12, 2, 8, 0))
    # Down from 8:00 to 11:00: both are sent late, once each.
    restarted = await _restart(app, settings, _at(12, 2, 11, 0))
    try:
        late = await _tick(restarted, _at(12, 2, 11, 0))
        assert sorted(_texts(late)) == [
            "【提醒】交材料\n（周楼长设置）",
            "【提醒】收电费\n（周楼长设置）",
        ]
        assert await _tick(restarted, _at(12, 2, 12, 0)) == []
        await restarted.say(
            "/提醒 明天上午9点 开会", user="p-lead", chat="g-ty51", message_id="after-restart"
        )
        # Down for a whole day: skipped, and the leader is told privately.
        again = await _restart(restarted, settings, _at(12, 4, 9, 0))
        note = await _tick(again, _at(12, 4, 9, 0))
        assert len(note) == 1 and note[0].chat.chat_id == "p-lead" and "跳过" in note[0].text
        await again.app.stop()
    finally:
        await app.app.database.close()


async def test_visitor_day_late_and_skipped(app: AppHarness, settings: Settings) -> None:
    # Down across 10 Dec 18:00 and 11 Dec 08:00: one late reminder (the same-day one) per group.
    await _tick(app, _at(12, 10, 12, 0))
    restarted = await _restart(app, settings, _at(12, 11, 9, 30))
    late = await _tick(restarted, _at(12, 11, 9, 30))
    assert len(late) == 7 and all(m.text.startswith("【开门接访】今天12月11日") for m in late)
    ledger = SqlSendLedger(restarted.app.database)
    outcomes = await ledger.outcomes("visitor:2026-12-11:")
    assert outcomes["visitor:2026-12-11:day_before:g-ty51"] == "superseded"
    assert outcomes["visitor:2026-12-11:same_day:g-ty51"] == "late"
    # Down across all of 21 Dec: no group reminder, one note to the secretary.
    await _tick(restarted, _at(12, 20, 12, 0))
    again = await _restart(restarted, settings, _at(12, 21, 12, 0))
    note = await _tick(again, _at(12, 21, 12, 0))
    assert [(m.chat.chat_id, m.chat.is_group) for m in note] == [("p-sec", False)]
    assert "12月21日（星期一）开门接访" in note[0].text
    assert await _tick(again, _at(12, 21, 13, 0)) == []
    await again.app.stop()


async def test_duty_set_by_the_secretary(app: AppHarness) -> None:
    sent = await app.say("/值班 12月11日 陈书记 街道王主任", user="p-sec", chat=None)
    assert "12月11日（星期五）开门接访由陈书记、街道王主任接待" in sent[0].text
    refused = await app.say("/值班 12月11日 周楼长", user="p-lead", chat="g-ty51")
    assert "社区书记" in refused[0].text
    wrong = await app.say("/值班 12月12日 陈书记", user="p-sec", chat=None)
    assert "不是开门接访日" in wrong[0].text
    evening = await _tick(app, _at(12, 10, 18, 0))
    assert len(evening) == 7 and "陈书记、街道王主任接待" in evening[0].text


async def test_digest_on_demand(app: AppHarness) -> None:
    sent = await app.say("/日报", user="p-sec-ty", chat=None)
    assert (
        sent[0].text.startswith("【日报】桃源小区")
        and "下次开门接访：12月1日（星期二）9:00" in sent[0].text
    )
    refused = await app.say("/日报", user="p-res1", chat=None)
    assert "只发给社区书记和小区书记" in refused[0].text


async def test_weekly_review_on_demand_has_a_chart(app: AppHarness) -> None:
    sent = await app.say("/周研判", user="p-sec", chat=None)
    assert len(sent) == 1 and sent[0].text.startswith("【周研判】富强社区")
    assert sent[0].image is not None
    with open(sent[0].image, "rb") as chart:  # noqa: ASYNC230 - a test reading a small file
        assert chart.read(4) == b"\x89PNG"


async def test_live_scheduler_plans_each_service_at_its_next_due_instant(app: AppHarness) -> None:
    scheduler = LiveScheduler(app.app.scheduled, TZ)
    await scheduler.start()
    try:
        planned = scheduler.planned()
        assert planned["due:visitor_days"] == _at(12, 10, 18, 0)
        assert planned["due:digests"] == _at(12, 2, 8, 0)
        assert "due:reminders" not in planned and "due:safety" in planned
        await app.say("/提醒 明天上午9点 收电费", user="p-lead", chat="g-ty51")
        await scheduler.run_all()
        assert scheduler.planned()["due:reminders"] == _at(12, 2, 9, 0)
    finally:
        await scheduler.stop()


async def test_a_claim_rolled_back_with_its_outbox_rows_is_sent_again(app: AppHarness) -> None:
    ledger = SqlSendLedger(app.app.database)

    async def crash_after_claiming() -> None:
        async with app.app.database.transaction():
            assert await ledger.claim("visitor:2026-12-11:day_before:g-ty51", *_claim_args())
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError, match="crash"):
        await crash_after_claiming()
    assert await ledger.claimed(["visitor:2026-12-11:day_before:g-ty51"]) == set()
    evening = await _tick(app, _at(12, 10, 18, 0))
    assert [m.chat.chat_id for m in evening].count("g-ty51") == 1
    assert not await ledger.claim("visitor:2026-12-11:day_before:g-ty51", *_claim_args())
    assert await _tick(app, _at(12, 10, 18, 1)) == []


def _claim_args() -> tuple[datetime, datetime, SendOutcome]:
    return _at(12, 10, 18, 0), _at(12, 10, 18, 0), SendOutcome.SENT


class _Probe:
    """A schedule service that records its runs and is due again right away once."""

    name = "probe"

    def __init__(self) -> None:
        self.runs = 0
        self.ran_twice = asyncio.Event()

    async def run_due(self) -> None:
        self.runs += 1
        if self.runs == 2:
            self.ran_twice.set()

    async def next_due_at(self) -> datetime | None:
        return datetime.now(UTC) if self.runs == 1 else None


async def test_live_scheduler_fires_the_date_job_it_planned() -> None:
    probe = _Probe()
    scheduler = LiveScheduler([probe], TZ)
    await scheduler.start()  # run 1 (catch-up), which plans a date job for now
    try:
        await asyncio.wait_for(probe.ran_twice.wait(), timeout=10)
        assert "due:probe" not in scheduler.planned()  # nothing further was due
    finally:
        await scheduler.stop()


async def test_morning_digests_read_their_figures_outside_the_write_transaction(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Digest scans may be long: they run in autocommit, not while holding the write lock."""
    import storage.db
    from bot.domain.digests import DigestService

    inside: list[bool] = []
    original = DigestService._digest

    async def watched(self: DigestService, *args: object) -> object:
        inside.append(storage.db._current.get() is not None)
        return await original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(DigestService, "_digest", watched)
    sent = [m for m in await app.tick(_at(12, 2, 8, 0)) if m.text.startswith("【日报】")]
    assert sent and inside and not any(inside)
    assert [m for m in await app.tick(_at(12, 2, 9, 0)) if m.text.startswith("【日报】")] == []


def _from(
    app: AppHarness, user: str, text: str, message_id: str, chat: str | None = None
) -> IncomingMessage:
    return IncomingMessage(
        message_id=message_id,
        chat=ChatRef(Platform.CONSOLE, chat or user, is_group=chat is not None),
        sender=UserRef(Platform.CONSOLE, user),
        text=text,
        sent_at=app.clock.now(),
    )


async def test_an_on_demand_weekly_review_is_drawn_outside_the_write_transaction(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While its chart is drawn, the write lock is free and other chats' messages go ahead;
    the secretary's own next message waits, so her chat keeps its order."""
    from handlers.digests import DigestMessages

    drawing, release = asyncio.Event(), asyncio.Event()
    original = DigestMessages.draw

    async def slow_draw(self: DigestMessages, review: WeeklyReview) -> DrawnReview:
        drawing.set()
        await release.wait()
        return await original(self, review)

    monkeypatch.setattr(DigestMessages, "draw", slow_draw)
    pipeline = app.app.pipeline
    weekly = asyncio.create_task(pipeline.handle(_from(app, "p-sec", "/周研判", "w1")))
    await asyncio.wait_for(drawing.wait(), timeout=10)
    other = sqlite3.connect(app.app.database.url.split("///", 1)[1], timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")  # raises "database is locked" if the lock were held
        other.rollback()
    finally:
        other.close()
    tickets = asyncio.create_task(pipeline.handle(_from(app, "p-sec", "/工单", "w2")))
    repair = _from(app, "p-res1", "5幢1单元楼道灯坏了好几天了，晚上黑漆漆的", "r1", "g-ty51")
    await asyncio.wait_for(pipeline.handle(repair), timeout=10)  # queued after both, done first
    queued = [p.msg.message_id for p in pipeline._queue]
    assert queued == ["w1", "w2"] and not weekly.done() and not tickets.done()
    release.set()
    await asyncio.wait_for(asyncio.gather(weekly, tickets), timeout=10)
    await app.app.deliver()
    to_secretary = [m.text for m in app.adapter.sent if m.chat.chat_id == "p-sec"]
    assert to_secretary[0].startswith("【周研判】富强社区")
    assert "待办工单 1 件" in to_secretary[1]


async def test_a_refused_preparation_answers_with_its_reason(app: AppHarness) -> None:
    refused = await app.say("/周研判", user="p-res1", chat=None)
    assert refused[0].text == "抱歉，周研判只发给社区书记和小区书记。"


async def test_monday_reviews_are_drawn_outside_the_write_transaction(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers.digests import DigestMessages

    original = DigestMessages.draw
    drawn: list[str] = []

    async def checked_draw(self: DigestMessages, review: WeeklyReview) -> DrawnReview:
        other = sqlite3.connect(app.app.database.url.split("///", 1)[1], timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the lock were held
            other.rollback()
        finally:
            other.close()
        drawn.append(review.scope.name)
        return await original(self, review)

    monkeypatch.setattr(DigestMessages, "draw", checked_draw)
    sent = await app.tick(_at(12, 7, 8, 0))  # a Monday
    reviews = [m for m in sent if m.text.startswith("【周研判】")]
    assert reviews and len(drawn) == len(reviews)
    assert all(m.image for m in reviews)


async def test_a_preparation_that_hangs_gets_the_apology_and_frees_the_chat(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.pipeline
    from handlers.digests import DigestMessages

    async def hanging_draw(self: DigestMessages, review: WeeklyReview) -> DrawnReview:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    monkeypatch.setattr(DigestMessages, "draw", hanging_draw)
    monkeypatch.setattr(bot.pipeline, "PREPARE_TIMEOUT", 0.05)
    sent = await app.say("/周研判", user="p-sec", chat=None)
    assert [m.text for m in sent] == [common_texts.SORRY]
    listed = await app.say("/工单", user="p-sec", chat=None)
    assert "工单" in listed[0].text


async def test_a_command_is_prepared_after_what_came_before_it_in_its_chat(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both arrive at once (as a Telegram poll batch does): /统计 reads after the report
    before it in the chat is committed."""
    from bot.domain.tickets import TicketService

    seen: list[bool] = []
    original = TicketService.rates

    async def rates(self: TicketService, *args: Any) -> Any:
        seen.append(await self._tickets.get_by_number(1001) is not None)
        return await original(self, *args)

    monkeypatch.setattr(TicketService, "rates", rates)
    pipeline = app.app.pipeline
    report = _from(app, "p-res1", "5幢1单元楼道灯坏了好几天了，晚上黑漆漆的", "a1", "g-ty51")
    stats = _from(app, "p-sec-ty", "/统计 7天", "a2", "g-ty51")
    await asyncio.wait_for(
        asyncio.gather(pipeline.handle(report), pipeline.handle(stats)), timeout=10
    )
    assert seen == [True]


async def test_two_draws_of_one_chart_at_once_leave_one_whole_picture(
    app: AppHarness, tmp_path: Path
) -> None:
    from handlers.digests import render_chart

    secretary = app.app.directory.person("p-sec")
    assert secretary is not None
    review = await app.app.services.digests.weekly_review_for(secretary)
    paths = await asyncio.gather(*(render_chart(review, tmp_path / "charts") for _ in range(3)))
    assert len(set(paths)) == 1
    assert [p.name for p in (tmp_path / "charts").iterdir()] == [paths[0].name]
    assert paths[0].read_bytes()[:4] == b"\x89PNG"
